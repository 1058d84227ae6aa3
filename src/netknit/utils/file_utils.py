"""`keras.utils.get_file`: download a file once, keep it in the Keras cache, check its hash,
and unpack archives safely."""

from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile

from ..training.progress import Progbar


def keras_home() -> str:
    """The Keras cache directory: `$KERAS_HOME`, or `~/.keras`."""
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False) -> str:
    """Downloads a file from a URL unless it is already in the cache, and returns its path.

    The file at `origin` is saved as `~/.keras/datasets/<fname>` (the cache directory is
    `$KERAS_HOME` when that is set). Later calls find it there and download nothing, unless
    `file_hash` is given and the cached file does not match it. The download goes to a
    temporary file that is renamed into place once complete, so an interrupted download leaves
    nothing behind.

    Args:
        fname: the file's name in the cache; by default the last part of `origin`'s path. With
            `extract=True` a name without an extension names the extraction directory.
        origin: the URL to download from (`https://...`, `file://...`).
        untar: deprecated form of `extract=True` for tar archives.
        md5_hash: deprecated form of `file_hash` with an MD5 hash.
        file_hash: the expected SHA-256 or MD5 hex digest of the file; a download that does not
            match it raises ValueError.
        cache_subdir: the subdirectory of the cache directory to save in (an absolute path is
            used as it is).
        hash_algorithm: `"sha256"`, `"md5"` or `"auto"` (SHA-256 for a 64-character hash).
        extract: unpack the downloaded tar or zip archive; the extraction directory is
            returned. Members that would land outside it (`../`, absolute paths, links out) are
            skipped with a warning.
        archive_format: `"auto"` (tar, then zip), `"tar"`, `"zip"`, a list of those, or None.
        cache_dir: the cache directory; `$KERAS_HOME` or `~/.keras` by default.
        force_download: download even if the file is in the cache.

    Returns:
        The path of the downloaded file, or of the extraction directory with `extract=True`.

    Example:

    >>> path = keras.utils.get_file(origin="https://example.com/data.csv")  # doctest: +SKIP
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    base = os.path.expanduser(cache_dir if cache_dir is not None else keras_home())
    if not os.access(base, os.W_OK) and os.path.exists(base):
        base = os.path.join(tempfile.gettempdir(), ".keras")
    directory = os.path.join(base, cache_subdir)
    os.makedirs(directory, exist_ok=True)

    given = os.fspath(fname) if fname else None
    name = given or os.path.basename(urllib.parse.urlsplit(origin).path)
    if not name:
        raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'. "
                         "Please specify the `fname` argument.")
    if given and os.sep in given:
        raise ValueError("Paths are no longer accepted as the `fname` argument. To specify the "
                         f"file's parent directory, use the `cache_dir` argument. Received: "
                         f"fname={given}")
    extraction_dir = None
    if extract or untar:
        if given and "." in name:
            target = os.path.join(directory, name)
            extraction_dir = os.path.join(directory, f"{name[:name.find('.')]}_extracted")
        else:
            target = os.path.join(directory, f"{name}_archive")
            extraction_dir = os.path.join(directory, name)
    else:
        target = os.path.join(directory, name)

    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None and not validate_file(target, file_hash,
                                                                     hash_algorithm):
        print(f"A local file was found, but it seems to be incomplete or outdated because the "
              f"{hash_algorithm} file hash does not match the original value of {file_hash} "
              "so we will re-download the data.")
        download = True
    if download:
        _download(origin, target)
        if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
            os.remove(target)
            raise ValueError(f"Incomplete or corrupted file detected. The {hash_algorithm} file "
                             f"hash does not match the provided value of {file_hash}.")
    if extraction_dir is None:
        return target
    if not extract_archive(target, extraction_dir, "tar" if untar else archive_format):
        warnings.warn("Could not extract archive.", stacklevel=2)
    return extraction_dir


def _download(origin: str, target: str) -> None:
    """Fetches `origin` into a temporary file next to `target`, then renames it into place."""
    print(f"Downloading data from {origin}")
    progress = None

    def report(blocks, block_size, total_size):
        nonlocal progress
        if progress is None:
            progress = Progbar(total_size if total_size > 0 else None)
        done = blocks * block_size
        progress.update(min(done, total_size) if total_size > 0 else done)

    handle, partial = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".download-")
    os.close(handle)
    try:
        try:
            urllib.request.urlretrieve(origin, partial, report)
        except urllib.error.HTTPError as error:
            raise OSError(f"URL fetch failure on {origin}: {error.code} -- {error.msg}") from error
        except urllib.error.URLError as error:
            raise OSError(f"URL fetch failure on {origin}: {error.errno} -- {error.reason}. "
                          "Check the URL and the network connection, or put the file in the "
                          f"cache as {target}.") from error
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def hash_file(path, algorithm="sha256", chunk_size=65535) -> str:
    """The hex digest of a file: `"sha256"` or `"md5"` (or a `hashlib` hasher)."""
    hasher = _hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(path, file_hash, algorithm="auto", chunk_size=65535) -> bool:
    """Whether a file's SHA-256 or MD5 digest is `file_hash` (`"auto"`: SHA-256 for a
    64-character hash, MD5 otherwise)."""
    return hash_file(path, _hasher(algorithm, file_hash), chunk_size) == str(file_hash)


def _hasher(algorithm: str, file_hash=None):
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None
                                 and len(file_hash) == 64):
        return hashlib.sha256()
    return hashlib.md5()  # Keras's legacy default


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Unpacks a tar (`.tar`, `.tar.gz`, `.tar.bz2`) or zip archive into `path`, skipping
    members that would land outside it. Returns whether the file was an archive of one of the
    `archive_format`s (`"auto"`: tar, then zip)."""
    if not archive_format:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else (
        [archive_format] if isinstance(archive_format, str) else list(archive_format))
    file_path, path = os.fspath(file_path), os.fspath(path)
    for kind in formats:
        if kind not in ("tar", "zip"):
            raise ValueError(f"Unknown archive_format {kind!r}: use 'tar', 'zip' or 'auto'.")
        if not (tarfile.is_tarfile if kind == "tar" else zipfile.is_zipfile)(file_path):
            continue
        with (tarfile.open if kind == "tar" else zipfile.ZipFile)(file_path) as archive:
            if kind == "tar":
                # Python's "data" filter (3.10.12+, 3.11.4+) also drops special files and
                # set-uid bits.
                archive.extractall(path, members=_safe_members(archive, path, _tar_paths),
                                   **({"filter": "data"} if hasattr(tarfile, "data_filter")
                                      else {}))
            else:
                archive.extractall(path, members=_safe_members(
                    archive.infolist(), path, lambda member: [member.filename]))
        return True
    return False


def _inside(base: str, relative: str) -> bool:
    base = os.path.realpath(base)
    return os.path.commonpath([base, os.path.realpath(os.path.join(base, relative))]) == base


def _safe_members(members, base, paths_of):
    """The members whose paths (`paths_of(member)`, the name first) all stay inside `base`."""
    for member in members:
        paths = paths_of(member)
        if all(_inside(base, path) for path in paths):
            yield member
        else:
            warnings.warn(f"Skipping invalid path during archive extraction: '{paths[0]}'.",
                          stacklevel=3)


def _tar_paths(member) -> list[str]:
    if member.issym():  # relative to the link's own directory
        return [member.name, os.path.join(os.path.dirname(member.name), member.linkname)]
    if member.islnk():  # relative to the archive's root
        return [member.name, member.linkname]
    return [member.name]
