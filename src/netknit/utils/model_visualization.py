"""`plot_model`: draw a model's graph of layers as an SVG, PNG or PDF picture.

Keras draws with Graphviz, a system program. netknit lays the graph out itself, so nothing needs to
be installed for SVG, and PNG or PDF only need matplotlib (`pip install matplotlib`):

1. *Collect*: one box per layer, labelled as Keras labels it (`name (Class)`, then the activation,
   the input and output shapes, the dtype, whether it is trainable), and one edge per connection.
   With `expand_nested=True`, a nested model becomes a dashed cluster holding its own layers.
2. *Lay out* each cluster, innermost first (a cluster is one item of its parent): a layered layout
   in the manner of Sugiyama. Items are ranked by their longest path from the inputs; an edge that
   skips ranks gets invisible waypoints in the ranks it crosses; items are ordered within ranks by
   the mean position of their neighbours, then placed as close to them as their sizes allow.
3. *Draw* the boxes, clusters and edges, as SVG text or with matplotlib.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from ..file_io import write_atomically
from ..graph.shapes import format_shape
from ..layers.input_layer import InputLayer
from ..models.functional import Functional
from ..models.sequential import Sequential

HEADER_SIZE = 14  # points, the first row of a box
CELL_SIZE = 12  # points, the other rows
PADDING = 7  # around the text of a cell
RANK_GAP = 40  # between ranks (rows with rankdir="TB", columns with "LR")
ITEM_GAP = 28  # between boxes of one rank
WAYPOINT_GAP = 10  # beside a waypoint of an edge that skips a rank
CLUSTER_PADDING = 14
MARGIN = 12
EDGE_WIDTH = 1.5
ARROW_LENGTH = 8.0
ARROW_WIDTH = 3.5
FONT = "DejaVu Sans"
RANKDIRS = ("TB", "LR", "BT", "RL")
SPLINES = ("ortho", "line", "polyline", "curved", "spline")
FORMATS = ("svg", "png", "pdf")


def plot_model(model, to_file: str = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = False, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 200, show_layer_activations: bool = False,
               show_trainable: bool = False, splines: str = "ortho"):
    """Draw the model's layers and their connections into an image file.

    The format follows the file name: `.svg` needs nothing beyond netknit, `.png` and `.pdf` are
    drawn with matplotlib. The file is written atomically.

    Args:
        model: a built model.
        to_file: the image file to write (`.png` when the name has no extension).
        show_shapes: show each layer's input and output shapes, e.g. `(None, 26, 26, 32)`.
        show_dtype: show each layer's output dtype.
        show_layer_names: show `name (Class)` rather than the class alone.
        rankdir: `"TB"` draws from top to bottom, `"LR"` from left to right (also `"BT"`, `"RL"`).
        expand_nested: draw nested models as dashed clusters holding their layers.
        dpi: the resolution of a PNG, in dots per inch.
        show_layer_activations: show the activation of layers that have one.
        show_trainable: mark layers with weights as trainable or not.
        splines: how edges are drawn: `"ortho"` (right angles), `"line"`/`"polyline"` (straight),
            `"curved"`/`"spline"` (curves).

    Returns:
        An `IPython.display` image when IPython is installed (so notebooks show it), else None.

    >>> plot_model(model, "model.svg", show_shapes=True, show_layer_names=True)
    """
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    if extension not in FORMATS:
        raise ValueError(
            f"Cannot write a plot as .{extension}: plot_model writes {list(FORMATS)}, chosen by "
            f"the extension of to_file. Received: to_file={to_file!r}"
        )
    if not isinstance(dpi, int) or isinstance(dpi, bool) or dpi <= 0:
        raise ValueError(f"Expected a positive integer for dpi. Received: dpi={dpi!r}")
    measure = _estimated_width
    if extension != "svg":
        measure = _matplotlib_width()
    drawing = model_to_drawing(
        model, show_shapes=show_shapes, show_dtype=show_dtype,
        show_layer_names=show_layer_names, rankdir=rankdir, expand_nested=expand_nested,
        show_layer_activations=show_layer_activations, show_trainable=show_trainable,
        splines=splines, measure=measure,
    )
    if extension == "svg":
        svg = drawing.to_svg()
        write_atomically(to_file, lambda path: _write_text(path, svg))
    else:
        write_atomically(to_file, lambda path: drawing.save_with_matplotlib(path, extension, dpi))
    try:
        from IPython import display
    except ImportError:
        return None
    if extension == "svg":
        return display.SVG(filename=to_file)
    return display.Image(filename=to_file) if extension == "png" else None


def model_to_svg(model, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = False, rankdir: str = "TB", expand_nested: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False,
                 splines: str = "ortho") -> str:
    """The picture `plot_model` draws, as SVG text (for notebooks or web pages)."""
    return model_to_drawing(
        model, show_shapes=show_shapes, show_dtype=show_dtype,
        show_layer_names=show_layer_names, rankdir=rankdir, expand_nested=expand_nested,
        show_layer_activations=show_layer_activations, show_trainable=show_trainable,
        splines=splines,
    ).to_svg()


def model_to_drawing(model, show_shapes=False, show_dtype=False, show_layer_names=False,
                     rankdir="TB", expand_nested=False, show_layer_activations=False,
                     show_trainable=False, splines="ortho", measure=None) -> Drawing:
    """Lay out the model's graph: the `Drawing` that `plot_model` and `model_to_svg` render."""
    if rankdir not in RANKDIRS:
        raise ValueError(
            f"Expected rankdir to be one of {list(RANKDIRS)} ('TB': top to bottom, 'LR': left "
            f"to right). Received: rankdir={rankdir!r}"
        )
    if splines not in SPLINES:
        raise ValueError(f"Expected splines to be one of {list(SPLINES)}. Received: {splines!r}")
    if not getattr(model, "built", False):
        raise ValueError(
            f"Model '{model.name}' has not been built yet, so its graph is unknown. Build it "
            "first: start it with Input(shape=...), call build(input_shape), or call it on data "
            "once."
        )
    collector = _Collector(
        measure or _estimated_width, show_shapes=show_shapes, show_dtype=show_dtype,
        show_layer_names=show_layer_names, expand_nested=expand_nested,
        show_layer_activations=show_layer_activations, show_trainable=show_trainable,
    )
    if _is_graph_model(model):
        root = collector.collect(model, [])
    else:  # a subclassed model is one box, as in Keras
        root = Cluster(model.name, model)
        node = model._inbound_nodes[0] if model._inbound_nodes else None
        root.items.append(collector.box(model, node, [root]))
    return Drawing(root, rankdir, splines, collector.measure)


# ---------------------------------------------------------------------------------------------
# 1. Collect boxes and edges.


@dataclass(eq=False)
class Cell:
    """One cell of a box: text fragments `(text, bold)` on a colored background."""

    fragments: list
    fill: str = "white"
    color: str = "black"
    size: int = CELL_SIZE
    width: float = 0.0


@dataclass(eq=False)
class Box:
    """One layer, drawn as rows of cells (Keras's label table)."""

    name: str
    rows: list
    parents: list  # the clusters it sits in, outermost first
    width: float = 0.0
    height: float = 0.0
    x: float = 0.0
    y: float = 0.0


@dataclass(eq=False)
class Cluster:
    """A model whose layers are drawn inside it: the whole graph, or an expanded nested model."""

    name: str
    model: object
    parents: list = field(default_factory=list)
    items: list = field(default_factory=list)
    edges: list = field(default_factory=list)  # the edges whose lowest common cluster this is
    width: float = 0.0
    height: float = 0.0
    x: float = 0.0
    y: float = 0.0
    padding: float = 0.0
    label_height: float = 0.0
    gaps: list = field(default_factory=list)  # main-axis (start, end) of the space after rank r


@dataclass(eq=False)
class Edge:
    source: Box
    target: Box
    waypoints: list = field(default_factory=list)  # (entry, exit) point in each skipped rank
    gap_indices: list = field(default_factory=list)  # the cluster gap each connection crosses
    backward: bool = False


def _is_graph_model(layer) -> bool:
    return isinstance(layer, Functional) and layer.built


def _is_sequential(model) -> bool:
    return isinstance(model, Sequential)


class _Collector:
    def __init__(self, measure, **options):
        self.measure = measure
        self.options = options
        self.drawn: dict[int, Box | Cluster] = {}

    def collect(self, model, parents: list) -> Cluster:
        cluster = Cluster(model.name, model, parents=parents)
        inside = parents + [cluster]
        nodes = [node for same_depth in model._nodes_by_depth.values() for node in same_depth]
        members = set(map(id, nodes))
        # Keras draws a Sequential without its input layer, and a functional model with them.
        layers = model.layers
        for layer in layers:
            if self.options["expand_nested"] and _is_graph_model(layer):
                item = self.collect(layer, inside)
            else:
                node = next((n for n in layer._inbound_nodes if id(n) in members), None)
                item = self.box(layer, node, inside)
            self.drawn[id(layer)] = item
            cluster.items.append(item)
        if _is_sequential(model):
            for before, after in itertools.pairwise(layers):
                self.connect(self.drawn[id(before)], 0, self.drawn[id(after)], 0)
            return cluster
        for node in nodes:
            for position, tensor in enumerate(node.inputs):
                source = self.drawn.get(id(tensor.producer))
                if source is not None:
                    self.connect(source, tensor.history.index, self.drawn[id(node.layer)], position)
        return cluster

    def connect(self, source, output_index: int, target, input_index: int) -> None:
        # Edges join boxes: an edge into a cluster goes to its input layer (a Sequential's first
        # layer), an edge out of one leaves from the layer that makes that output.
        while isinstance(source, Cluster):
            tensor = source.model.outputs[output_index]
            output_index = tensor.history.index
            source = self.drawn[id(tensor.producer)]
        while isinstance(target, Cluster):
            model = target.model
            first = model.layers[0] if _is_sequential(model) else model.inputs[input_index].producer
            target = self.drawn[id(first)]
        cluster = _lowest_common_cluster(source, target)
        if not any(e.source is source and e.target is target for e in cluster.edges):
            cluster.edges.append(Edge(source, target))

    def box(self, layer, node, parents: list) -> Box:
        options = self.options
        kind = type(layer).__name__
        if options["show_layer_names"]:
            header = [(layer.name, True), (f" ({kind})", False)]
        else:
            header = [(kind, True)]
        rows = [[Cell(header, fill="black", color="white", size=HEADER_SIZE)]]
        activation = getattr(layer, "activation", None)
        if options["show_layer_activations"] and activation is not None:
            rows.append([Cell([("Activation: ", False), (_activation_name(activation), True)])])
        details = []
        if options["show_shapes"]:
            if not isinstance(layer, InputLayer):
                shapes = node and [format_shape(t.shape) for t in node.inputs]
                details.append(Cell([("Input shape: ", False), (_joined(shapes), True)]))
            shapes = node and [format_shape(t.shape) for t in node.outputs]
            details.append(Cell([("Output shape: ", False), (_joined(shapes), True)]))
        if options["show_dtype"]:
            dtypes = node and [str(t.dtype).replace("torch.", "") for t in node.outputs]
            details.append(Cell([("Output dtype: ", False), (_joined(dtypes), True)]))
        if options["show_trainable"] and layer.weights:
            details.append(Cell([("Trainable" if layer.trainable else "Non-trainable", True)],
                                fill="forestgreen" if layer.trainable else "firebrick",
                                color="white"))
        if details:
            rows.append(details)
        box = Box(layer.name, rows, parents)
        for row in rows:
            for cell in row:
                cell.width = 2 * PADDING + sum(
                    self.measure(text, cell.size, bold) for text, bold in cell.fragments
                )
        box.width = max(sum(cell.width for cell in row) for row in rows)
        for row in rows:  # widen the cells of narrower rows to the box's width
            extra = (box.width - sum(cell.width for cell in row)) / len(row)
            for cell in row:
                cell.width += extra
        box.height = sum(_row_height(row) for row in rows)
        return box


def _row_height(row: list) -> float:
    return max(cell.size for cell in row) + 2 * PADDING


def _joined(values) -> str:
    if not values:
        return "?"
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"


def _activation_name(activation) -> str:
    return getattr(activation, "name", None) or getattr(activation, "__name__", str(activation))


def _lowest_common_cluster(a: Box, b: Box) -> Cluster:
    common = a.parents[0]
    for x, y in zip(a.parents, b.parents):
        if x is not y:
            break
        common = x
    return common


def _item_within(box: Box, cluster: Cluster):
    """The item of `cluster` that holds `box`: the box itself, or a nested cluster."""
    depth = next(i for i, c in enumerate(box.parents) if c is cluster)
    return box.parents[depth + 1] if depth + 1 < len(box.parents) else box


# ---------------------------------------------------------------------------------------------
# 2. Lay out.


def _layout(cluster: Cluster, horizontal: bool, label_below: bool, is_root: bool) -> None:
    """Size `cluster` and place its items and edge waypoints relative to its top-left corner."""
    for item in cluster.items:
        if isinstance(item, Cluster):
            _layout(item, horizontal, label_below, is_root=False)
    items = cluster.items

    # 2a. Rank by longest path from the sources. A cycle (a shared layer fed, through others, by
    # its own output) is broken at its earliest item; the edge closing it is drawn backward.
    index = {id(item): i for i, item in enumerate(items)}
    links = [
        (edge, index[id(_item_within(edge.source, cluster))],
         index[id(_item_within(edge.target, cluster))])
        for edge in cluster.edges
    ]
    rank = _ranks(len(items), [(a, b) for _, a, b in links])

    # 2b. An edge that skips ranks gets a waypoint, an item of no size, in each rank it crosses.
    # `size` holds (main, cross) extents: main runs along the ranks (down for TB, right for LR).
    size = [(i.width, i.height) if horizontal else (i.height, i.width) for i in items]
    ranks = [[] for _ in range(max(rank, default=-1) + 1)]
    for i, r in enumerate(rank):
        ranks[r].append(i)
    up = [[] for _ in items]
    chains = []
    for edge, a, b in links:
        edge.backward = rank[b] <= rank[a]
        if edge.backward:
            continue
        chain = [a]
        for r in range(rank[a] + 1, rank[b]):
            size.append((0.0, 0.0))
            up.append([])
            rank.append(r)
            ranks[r].append(len(size) - 1)
            chain.append(len(size) - 1)
        chain.append(b)
        for lower, upper in zip(chain[1:], chain):
            up[lower].append(upper)
        chains.append((edge, chain))
    down = [[] for _ in size]
    for lower, uppers in enumerate(up):
        for upper in uppers:
            down[upper].append(lower)

    # 2c. Order each rank by the mean order of its neighbours, sweeping down then up.
    order = {m: k for members in ranks for k, m in enumerate(members)}
    for sweep in range(4):
        neighbours = up if sweep % 2 == 0 else down
        for members in ranks if sweep % 2 == 0 else ranks[::-1]:
            members.sort(key=lambda m: _mean([order[n] for n in neighbours[m]], order[m]))
            order.update({m: k for k, m in enumerate(members)})

    # 2d. Cross-axis centres: packed, then pulled towards the neighbours' (down, up, down).
    centre = [0.0] * len(size)
    for members in ranks:
        _pack(members, size, centre, [0.0] * len(members))
    for sweep in range(3):
        neighbours = up if sweep % 2 == 0 else down
        for members in ranks if sweep % 2 == 0 else ranks[::-1]:
            _pack(members, size, centre,
                  [_mean([centre[n] for n in neighbours[m]], centre[m]) for m in members])
    low = min((centre[m] - size[m][1] / 2 for m in range(len(size))), default=0.0)
    centre = [c - low for c in centre]
    cross_extent = max((centre[m] + size[m][1] / 2 for m in range(len(size))), default=0.0)

    # 2e. Main-axis positions: each rank as deep as its deepest item, items centred in it.
    depth = [max(size[m][0] for m in members) for members in ranks]
    starts = [sum(depth[:r]) + RANK_GAP * r for r in range(len(ranks))]
    main_extent = starts[-1] + depth[-1] if ranks else 0.0

    # 2f. From (main, cross) to (x, y), inside the padding and the label of the cluster.
    if not is_root:
        cluster.padding, cluster.label_height = CLUSTER_PADDING, CELL_SIZE + PADDING
    # With rankdir="BT" the page is flipped upside down at the end: the label space goes below.
    top = cluster.padding + (0.0 if label_below else cluster.label_height)
    left = cluster.padding

    def to_xy(main, cross):
        return (left + main, top + cross) if horizontal else (left + cross, top + main)

    for i, item in enumerate(items):
        item.x, item.y = to_xy(starts[rank[i]] + (depth[rank[i]] - size[i][0]) / 2,
                               centre[i] - size[i][1] / 2)
    for edge, chain in chains:
        edge.waypoints = [
            (to_xy(starts[rank[m]], centre[m]), to_xy(starts[rank[m]] + depth[rank[m]], centre[m]))
            for m in chain[1:-1]
        ]
        edge.gap_indices = list(range(rank[chain[0]], rank[chain[-1]]))
    offset = left if horizontal else top
    cluster.gaps = [(offset + starts[r] + depth[r], offset + starts[r + 1])
                    for r in range(len(ranks) - 1)]
    width, height = (main_extent, cross_extent) if horizontal else (cross_extent, main_extent)
    label_width = 0.0 if is_root else 2 * PADDING + _estimated_width(cluster.name, CELL_SIZE, False)
    cluster.width = max(width, label_width) + 2 * cluster.padding
    cluster.height = height + 2 * cluster.padding + cluster.label_height


def _ranks(count: int, links: list) -> list[int]:
    incoming = [[] for _ in range(count)]
    for a, b in links:
        if a != b:
            incoming[b].append(a)
    rank: list = [None] * count
    remaining = list(range(count))
    while remaining:
        ready = [i for i in remaining if all(rank[p] is not None for p in incoming[i])]
        for i in ready or remaining[:1]:
            rank[i] = max((rank[p] + 1 for p in incoming[i] if rank[p] is not None), default=0)
            remaining.remove(i)
    return rank


def _mean(values: list, default: float) -> float:
    return sum(values) / len(values) if values else default


def _pack(members: list, size: list, centre: list, wanted: list) -> None:
    """Set the centres of `members` as near `wanted` as their sizes allow, keeping their order.

    Pushing overlapping items right from the first one, or left from the last one, gives two
    placements that keep the items apart; so does their mean, which sits between them.
    """
    gaps = [
        (size[a][1] + size[b][1]) / 2 + (ITEM_GAP if size[a][1] and size[b][1] else WAYPOINT_GAP)
        for a, b in itertools.pairwise(members)
    ]
    rightwards, leftwards = list(wanted), list(wanted)
    for k in range(1, len(members)):
        rightwards[k] = max(rightwards[k], rightwards[k - 1] + gaps[k - 1])
    for k in range(len(members) - 2, -1, -1):
        leftwards[k] = min(leftwards[k], leftwards[k + 1] - gaps[k])
    for k, m in enumerate(members):
        centre[m] = (rightwards[k] + leftwards[k]) / 2


def _place(cluster: Cluster, horizontal: bool) -> None:
    """Turn the positions relative to each cluster into positions on the page."""
    for item in cluster.items:
        item.x += cluster.x
        item.y += cluster.y
        if isinstance(item, Cluster):
            _place(item, horizontal)
    for edge in cluster.edges:
        edge.waypoints = [tuple((x + cluster.x, y + cluster.y) for x, y in pair)
                          for pair in edge.waypoints]
    shift = cluster.x if horizontal else cluster.y
    cluster.gaps = [(a + shift, b + shift) for a, b in cluster.gaps]


def _walk(cluster: Cluster):
    """Every cluster, outermost first, and every box."""
    yield cluster
    for item in cluster.items:
        if isinstance(item, Cluster):
            yield from _walk(item)
        else:
            yield item


# ---------------------------------------------------------------------------------------------
# 3. Route the edges and draw.


class Drawing:
    """A laid-out model graph: boxes, clusters and routed edges on a page measured in points."""

    def __init__(self, root: Cluster, rankdir: str, splines: str, measure):
        self.root = root
        self.rankdir = rankdir
        self.splines = splines
        self.measure = measure
        self.horizontal = rankdir in ("LR", "RL")
        _layout(root, self.horizontal, label_below=rankdir == "BT", is_root=True)
        root.x = root.y = MARGIN
        _place(root, self.horizontal)
        self.width = root.width + 2 * MARGIN
        self.height = root.height + 2 * MARGIN
        if rankdir in ("BT", "RL"):
            self._flip()
        self.paths = self._route()
        # Edges drawn backward bulge out beyond the boxes: make room for them.
        points = [p for path in self.paths for command in path for p in command[1:]]
        self.width = max([self.width] + [x + MARGIN for x, _ in points])
        self.height = max([self.height] + [y + MARGIN for _, y in points])

    @property
    def boxes(self) -> list[Box]:
        return [thing for thing in _walk(self.root) if isinstance(thing, Box)]

    @property
    def clusters(self) -> list[Cluster]:
        return [thing for thing in _walk(self.root) if isinstance(thing, Cluster)][1:]

    def _flip(self) -> None:
        """Mirror the page so that ranks run bottom to top (BT) or right to left (RL)."""
        extent = self.width if self.horizontal else self.height

        def point(p):
            return (extent - p[0], p[1]) if self.horizontal else (p[0], extent - p[1])

        for thing in _walk(self.root):
            if self.horizontal:
                thing.x = extent - thing.x - thing.width
            else:
                thing.y = extent - thing.y - thing.height
            if isinstance(thing, Cluster):
                thing.gaps = [(extent - b, extent - a) for a, b in thing.gaps]
                for edge in thing.edges:
                    edge.waypoints = [(point(a), point(b)) for a, b in edge.waypoints]

    # Ports: where edges leave and enter boxes, spread along the side they use.
    def _side_point(self, box: Box, leaving: bool, offset: float) -> tuple:
        forward = self.rankdir in ("TB", "LR")
        far_side = leaving == forward  # the bottom (TB), top (BT), right (LR) or left (RL) side
        if self.horizontal:
            return (box.x + box.width if far_side else box.x, box.y + box.height / 2 + offset)
        return (box.x + box.width / 2 + offset, box.y + box.height if far_side else box.y)

    def _cross(self, point) -> float:
        return point[1] if self.horizontal else point[0]

    def _route(self) -> list:
        edges = [(cluster, edge) for cluster in _walk(self.root) if isinstance(cluster, Cluster)
                 for edge in cluster.edges]
        forward = [(c, e) for c, e in edges if not e.backward]
        centre = {id(b): (b.x + b.width / 2, b.y + b.height / 2) for b in self.boxes}

        # 3a. Spread the ports of each box in the order of where their edges go.
        ports: dict = {}
        for leaving in (True, False):
            by_box: dict = {}
            for _, edge in forward:
                box = edge.source if leaving else edge.target
                if edge.waypoints:
                    other = edge.waypoints[0][0] if leaving else edge.waypoints[-1][1]
                else:
                    other = centre[id(edge.target if leaving else edge.source)]
                by_box.setdefault(id(box), (box, []))[1].append((self._cross(other), edge))
            for box, ends in by_box.values():
                ends.sort(key=lambda end: end[0])
                side = box.height if self.horizontal else box.width
                step = min(14.0, side / (len(ends) + 1))
                for k, (_, edge) in enumerate(ends):
                    offset = (k - (len(ends) - 1) / 2) * step
                    ports[id(edge), leaving] = self._side_point(box, leaving, offset)

        # 3b. Each edge is a series of connections between consecutive ranks; with "ortho", the
        # connections that cross one gap bend on tracks spread across it.
        connections = []
        for cluster, edge in forward:
            points = [ports[id(edge), True]]
            for entry, exit_ in edge.waypoints:
                points += [entry, exit_]
            points.append(ports[id(edge), False])
            pairs = list(zip(points[0::2], points[1::2]))
            connections.append((cluster, edge, pairs))
        bends: dict = {}
        for cluster, edge, pairs in connections:
            for k, (gap, (p, q)) in enumerate(zip(edge.gap_indices, pairs)):
                if abs(self._cross(p) - self._cross(q)) > 0.5:
                    bends.setdefault((id(cluster), gap), (cluster.gaps[gap], []))[1].append(
                        (self._cross(p), self._cross(q), id(edge), k)
                    )
        track = {}
        for (start, end), members in bends.values():
            for n, (*_, edge_id, k) in enumerate(sorted(members)):
                track[edge_id, k] = start + (end - start) * (n + 1) / (len(members) + 1)

        paths = []
        for _, edge, pairs in connections:
            path = [("M", pairs[0][0])]
            for k, (p, q) in enumerate(pairs):
                if k:
                    path.append(("L", p))  # along a waypoint, through the rank it crosses
                path += self._connection(p, q, track.get((id(edge), k)))
            paths.append(path)
        for _, edge in edges:
            if edge.backward:
                paths.append(self._backward(edge))
        return paths

    def _connection(self, p, q, track) -> list:
        def along(main, cross):
            return (main, cross) if self.horizontal else (cross, main)

        main_p, main_q = (p[0], q[0]) if self.horizontal else (p[1], q[1])
        if self.splines in ("line", "polyline"):
            return [("L", q)]
        if self.splines in ("curved", "spline"):
            middle = (main_p + main_q) / 2
            return [("C", along(middle, self._cross(p)), along(middle, self._cross(q)), q)]
        if track is None:
            return [("L", q)]
        return [("L", along(track, self._cross(p))), ("L", along(track, self._cross(q))),
                ("L", q)]

    def _backward(self, edge: Edge) -> list:
        """A curve around the far side of the boxes, for an edge that closes a cycle."""
        a, b = edge.source, edge.target
        if self.horizontal:
            p, q = (a.x + a.width / 2, a.y + a.height), (b.x + b.width / 2, b.y + b.height)
            bulge = (0.0, 30.0 + abs(p[0] - q[0]) / 4)
        else:
            p, q = (a.x + a.width, a.y + a.height / 2), (b.x + b.width, b.y + b.height / 2)
            bulge = (30.0 + abs(p[1] - q[1]) / 4, 0.0)
        if a is b:  # a loop leaves and comes back on the same side, a little apart
            shift = (8.0, 0.0) if self.horizontal else (0.0, 8.0)
            p, q = (p[0] - shift[0], p[1] - shift[1]), (q[0] + shift[0], q[1] + shift[1])
        return [("M", p), ("C", (p[0] + bulge[0], p[1] + bulge[1]),
                           (q[0] + bulge[0], q[1] + bulge[1]), q)]

    # Arrowheads: the path stops at the arrow's base; the arrow's tip touches the box.
    def _with_arrowhead(self, path: list) -> tuple[list, list]:
        last = path[-1]
        tip = last[-1]
        before = last[-2] if last[0] == "C" else path[-2][-1]
        dx, dy = tip[0] - before[0], tip[1] - before[1]
        length = (dx * dx + dy * dy) ** 0.5
        if length < 1e-6:
            forward = self.rankdir in ("TB", "LR")
            dx, dy = (1.0 if forward else -1.0, 0.0) if self.horizontal else (
                0.0, 1.0 if forward else -1.0)
            length = 1.0
        dx, dy = dx / length, dy / length
        base = (tip[0] - ARROW_LENGTH * dx, tip[1] - ARROW_LENGTH * dy)
        corners = [tip, (base[0] - ARROW_WIDTH * dy, base[1] + ARROW_WIDTH * dx),
                   (base[0] + ARROW_WIDTH * dy, base[1] - ARROW_WIDTH * dx)]
        return path[:-1] + [(*last[:-1], base)], corners

    def _cell_layout(self, box: Box):
        """Each cell of `box` with its rectangle: (cell, x, y, width, height)."""
        y = box.y
        for row in box.rows:
            height = _row_height(row)
            x = box.x
            for cell in row:
                yield cell, x, y, cell.width, height
                x += cell.width
            y += height

    def to_svg(self) -> str:
        """The drawing as a standalone SVG document."""
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:.1f}pt" '
             f'height="{self.height:.1f}pt" viewBox="0 0 {self.width:.1f} {self.height:.1f}" '
             f'font-family="{FONT}, Verdana, Arial, sans-serif">'),
            f'<title>{escape(self.root.name)}</title>',
            '<rect width="100%" height="100%" fill="white"/>',
        ]
        for cluster in self.clusters:
            out.append(
                f'<g class="cluster"><title>{escape(cluster.name)}</title>'
                f'<rect x="{cluster.x:.1f}" y="{cluster.y:.1f}" width="{cluster.width:.1f}" '
                f'height="{cluster.height:.1f}" rx="4" fill="none" stroke="#555555" '
                f'stroke-dasharray="6,4"/>'
                f'<text x="{cluster.x + PADDING + 4:.1f}" '
                f'y="{self._label_baseline(cluster):.1f}" font-size="{CELL_SIZE}" '
                f'fill="#333333">{escape(cluster.name)}</text></g>'
            )
        for path in self.paths:
            path, corners = self._with_arrowhead(path)
            out.append(
                f'<g class="edge"><path d="{_svg_path(path)}" fill="none" stroke="black" '
                f'stroke-width="{EDGE_WIDTH}"/><polygon points="'
                + " ".join(f"{x:.1f},{y:.1f}" for x, y in corners)
                + '" fill="black"/></g>'
            )
        for box in self.boxes:
            out.append(f'<g class="node"><title>{escape(box.name)}</title>')
            for cell, x, y, width, height in self._cell_layout(box):
                spans = "".join(
                    f'<tspan font-weight="bold">{escape(text)}</tspan>' if bold else escape(text)
                    for text, bold in cell.fragments
                )
                # Anchored at the start: some renderers centre each tspan on its own.
                text_width = sum(self.measure(t, cell.size, bold) for t, bold in cell.fragments)
                out.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
                    f'fill="{cell.fill}" stroke="black"/>'
                    f'<text x="{x + (width - text_width) / 2:.1f}" '
                    f'y="{y + height / 2 + cell.size * 0.36:.1f}" font-size="{cell.size}" '
                    f'fill="{cell.color}" xml:space="preserve">{spans}</text>'
                )
            out.append("</g>")
        out.append("</svg>")
        return "\n".join(out) + "\n"

    def _label_baseline(self, cluster: Cluster) -> float:
        label_top = cluster.y + (cluster.padding + cluster.label_height) / 2 - CELL_SIZE / 2
        return label_top + CELL_SIZE * 0.86

    def save_with_matplotlib(self, path: str, format: str, dpi: int) -> None:
        """Draw with matplotlib into `path` (a PNG or PDF); one drawing unit is one point."""
        from matplotlib.figure import Figure
        from matplotlib.patches import PathPatch, Polygon, Rectangle
        from matplotlib.path import Path

        figure = Figure(figsize=(self.width / 72, self.height / 72), dpi=dpi)
        axes = figure.add_axes((0, 0, 1, 1))
        axes.set_xlim(0, self.width)
        axes.set_ylim(self.height, 0)
        axes.set_axis_off()
        text_options = {"family": FONT, "parse_math": False, "ha": "left", "va": "baseline"}
        for cluster in self.clusters:
            axes.add_patch(Rectangle((cluster.x, cluster.y), cluster.width, cluster.height,
                                     fill=False, edgecolor="#555555", linestyle=(0, (6, 4))))
            axes.text(cluster.x + PADDING + 4, self._label_baseline(cluster), cluster.name,
                      fontsize=CELL_SIZE, color="#333333", **text_options)
        codes = {"M": [Path.MOVETO], "L": [Path.LINETO], "C": [Path.CURVE4] * 3}
        for path_commands in self.paths:
            path_commands, corners = self._with_arrowhead(path_commands)
            vertices = [p for command in path_commands for p in command[1:]]
            kinds = [code for command in path_commands for code in codes[command[0]]]
            axes.add_patch(PathPatch(Path(vertices, kinds), fill=False, linewidth=EDGE_WIDTH,
                                     capstyle="butt", joinstyle="miter"))
            axes.add_patch(Polygon(corners, closed=True, facecolor="black", edgecolor="none"))
        for box in self.boxes:
            for cell, x, y, width, height in self._cell_layout(box):
                axes.add_patch(Rectangle((x, y), width, height, facecolor=cell.fill,
                                         edgecolor="black", linewidth=1))
                widths = [self.measure(text, cell.size, bold) for text, bold in cell.fragments]
                left = x + (width - sum(widths)) / 2
                for (text, bold), text_width in zip(cell.fragments, widths):
                    axes.text(left, y + height / 2 + cell.size * 0.36, text, fontsize=cell.size,
                              fontweight="bold" if bold else "normal", color=cell.color,
                              **text_options)
                    left += text_width
        figure.savefig(path, format=format, dpi=dpi, facecolor="white")


def _svg_path(commands: list) -> str:
    return " ".join(
        command[0] + " " + " ".join(f"{x:.1f},{y:.1f}" for x, y in command[1:])
        for command in commands
    )


# Text widths. SVG leaves fonts to the viewer, so boxes are sized from DejaVu Sans's typical
# advance widths (in ems); matplotlib measures exactly.
_NARROW, _SEMI, _WIDE = set("ijlI|'.,:;!"), set("frt()[]-\"/\\ "), set("mwMW%@#+<=>^~")


def _estimated_width(text: str, size: float, bold: bool) -> float:
    ems = sum(
        0.31 if c in _NARROW else 0.38 if c in _SEMI else 0.9 if c in _WIDE
        else 0.7 if c.isupper() else 0.62
        for c in text
    )
    return ems * size * (1.12 if bold else 1.0)


def _matplotlib_width():
    try:
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextToPath
    except ImportError:
        raise ImportError(
            "plot_model draws PNG and PDF files with matplotlib, which is not installed. Install "
            "it (`pip install matplotlib`), or write an SVG file, which needs nothing more: "
            "plot_model(model, to_file='model.svg')."
        ) from None
    converter = TextToPath()
    fonts: dict = {}

    def width(text: str, size: float, bold: bool) -> float:
        if (size, bold) not in fonts:
            fonts[size, bold] = FontProperties(family=FONT, size=size,
                                               weight="bold" if bold else "normal")
        return converter.get_text_width_height_descent(text, fonts[size, bold], ismath=False)[0]

    return width


def _write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
