"""keras.utils.get_file: the cache, hashes, archives, and what a failed download leaves."""

import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

import netknit as keras


def _source(tmp_path, name="data.txt", content=b"hello netknit"):
    path = tmp_path / "origin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return path.as_uri()


def _tar_gz(tmp_path, name, members):
    path = tmp_path / "origin" / name
    path.parent.mkdir(exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for member_name, content in members.items():
            info = tarfile.TarInfo(member_name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


def test_downloads_once_into_the_cache(tmp_path, capsys):
    origin = _source(tmp_path)
    cache = tmp_path / "cache"
    path = keras.utils.get_file(origin=origin, cache_dir=cache)
    assert path == os.path.join(cache, "datasets", "data.txt")
    assert Path(path).read_bytes() == b"hello netknit"
    assert "Downloading data from" in capsys.readouterr().out
    assert keras.utils.get_file(origin=origin, cache_dir=cache, cache_subdir="models") == (
        os.path.join(cache, "models", "data.txt"))
    (tmp_path / "origin" / "data.txt").unlink()  # the cached copy is used from now on
    assert keras.utils.get_file("data.txt", origin=origin, cache_dir=cache) == path


def test_keras_home_is_the_default_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    path = keras.utils.get_file(origin=_source(tmp_path))
    assert path == os.path.join(tmp_path, "home", "datasets", "data.txt")


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_the_hash_is_checked_and_a_bad_download_removed(tmp_path, algorithm):
    origin, cache = _source(tmp_path), tmp_path / "cache"
    good = hashlib.new(algorithm, b"hello netknit").hexdigest()
    assert os.path.exists(keras.utils.get_file(origin=origin, cache_dir=cache, file_hash=good))
    # A cached file that no longer matches is downloaded again; a bad download is refused.
    with pytest.raises(ValueError, match="file hash does not match the provided value"):
        keras.utils.get_file("other.txt", origin=origin, cache_dir=cache, file_hash="0" * 64)
    assert not os.path.exists(cache / "datasets" / "other.txt")
    (cache / "datasets" / "data.txt").write_bytes(b"stale")
    path = keras.utils.get_file(origin=origin, cache_dir=cache, file_hash=good)
    assert Path(path).read_bytes() == b"hello netknit"


def test_md5_hash_is_the_deprecated_spelling(tmp_path):
    md5 = hashlib.md5(b"hello netknit").hexdigest()
    keras.utils.get_file(origin=_source(tmp_path), cache_dir=tmp_path, md5_hash=md5)
    with pytest.raises(ValueError, match="md5"):
        keras.utils.get_file("x.txt", origin=_source(tmp_path), cache_dir=tmp_path,
                             md5_hash="0" * 32)


def test_a_failed_download_says_why_and_leaves_no_file(tmp_path):
    missing = (tmp_path / "nowhere.bin").as_uri()
    with pytest.raises(OSError, match="URL fetch failure on file://"):
        keras.utils.get_file(origin=missing, cache_dir=tmp_path / "cache")
    assert os.listdir(tmp_path / "cache" / "datasets") == []


def test_bad_arguments():
    with pytest.raises(ValueError, match='specify the "origin" argument'):
        keras.utils.get_file("a.txt")
    with pytest.raises(ValueError, match="Paths are no longer accepted"):
        keras.utils.get_file(os.path.join("a", "b.txt"), origin="file:///b.txt")
    with pytest.raises(ValueError, match="Can't parse the file name"):
        keras.utils.get_file(origin="https://example.com/")


@pytest.mark.parametrize("fname, archive, directory", [
    (None, "pack.tar.gz_archive", "pack.tar.gz"),  # no fname: the URL's name
    ("pack", "pack_archive", "pack"),
    ("pack.tar.gz", "pack.tar.gz", "pack_extracted"),
])
def test_archives_are_extracted_where_keras_puts_them(tmp_path, fname, archive, directory):
    origin = _tar_gz(tmp_path, "pack.tar.gz", {"inner/a.txt": b"A"}).as_uri()
    path = keras.utils.get_file(fname, origin=origin, cache_dir=tmp_path, extract=True)
    assert path == os.path.join(tmp_path, "datasets", directory)
    assert Path(os.path.join(path, "inner", "a.txt")).read_bytes() == b"A"
    assert os.path.isfile(os.path.join(tmp_path, "datasets", archive))


def test_members_outside_the_extraction_directory_are_skipped(tmp_path):
    origin = _tar_gz(tmp_path, "evil.tar.gz", {"ok.txt": b"ok", "../escaped.txt": b"x"})
    with pytest.warns(UserWarning, match="Skipping invalid path.*escaped"):
        path = keras.utils.get_file("evil", origin=origin.as_uri(), cache_dir=tmp_path,
                                    extract=True)
    assert os.listdir(path) == ["ok.txt"]
    assert not (tmp_path / "datasets" / "escaped.txt").exists()


def test_zip_archives_and_unknown_formats(tmp_path):
    zipped = tmp_path / "origin" / "z.zip"
    zipped.parent.mkdir()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("z/b.txt", "B")
    path = keras.utils.get_file("z", origin=zipped.as_uri(), cache_dir=tmp_path, extract=True)
    assert Path(os.path.join(path, "z", "b.txt")).read_text() == "B"
    with pytest.warns(UserWarning, match="Could not extract archive"):
        keras.utils.get_file("t", origin=_source(tmp_path), cache_dir=tmp_path, extract=True)


def test_paths_match_keras(tmp_path):
    real_keras = pytest.importorskip("keras")
    origin = _tar_gz(tmp_path, "pack.tar.gz", {"a.txt": b"A"}).as_uri()
    for case, (kwargs, extract) in enumerate([(kwargs, extract) for extract in (False, True)
                                              for kwargs in ({}, {"fname": "pack"},
                                                             {"fname": "pack.tar.gz"})]):
        # Keras falls back to /tmp/.keras for a cache_dir that does not exist yet (netknit
        # makes it), so both are made first.
        ours_dir, theirs_dir = tmp_path / f"n{case}", tmp_path / f"k{case}"
        ours_dir.mkdir()
        theirs_dir.mkdir()
        ours = keras.utils.get_file(origin=origin, cache_dir=ours_dir, extract=extract, **kwargs)
        theirs = real_keras.utils.get_file(origin=origin, cache_dir=theirs_dir, extract=extract,
                                           **kwargs)
        assert os.path.relpath(ours, ours_dir) == os.path.relpath(theirs, theirs_dir)
        assert sorted(os.listdir(ours_dir / "datasets")) == sorted(
            os.listdir(theirs_dir / "datasets"))
