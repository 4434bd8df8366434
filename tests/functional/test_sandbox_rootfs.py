"""Image roots (ebami.sandbox.rootfs.RootStore): a copied image shares its source's root, which
stays as long as any image using it is registered, whichever goes first."""

from __future__ import annotations

from pathlib import Path

from ebami.sandbox.rootfs import RootStore

FILES = {"/etc/system-release": "Amazon Linux AMI release 2017.09\n"}


def release_of(store: RootStore, image_id: str, instance_id: str) -> str:
    """What an instance launched from `image_id` finds in its own root."""
    return (store.launch(image_id, instance_id) / "etc/system-release").read_text()


def image_dirs(store: RootStore) -> list[str]:
    return sorted(path.name for path in (store.base / "images").iterdir())


def test_a_copy_launches_with_its_source_s_files_without_a_directory_of_its_own(
    tmp_path: Path,
) -> None:
    store = RootStore(tmp_path / "roots")
    store.create_image("ami-source", FILES)
    store.copy_image("ami-source", "ami-copy")
    store.copy_image("ami-copy", "ami-copy-of-copy")
    assert image_dirs(store) == ["ami-source"]
    for number, image_id in enumerate(("ami-copy", "ami-copy-of-copy")):
        assert release_of(store, image_id, f"i-{number}") == FILES["/etc/system-release"]
    # An instance's root is its own: writing to it leaves the shared image root alone.
    (store.instance("i-0") / "etc/system-release").write_text("changed\n")
    assert release_of(store, "ami-source", "i-2") == FILES["/etc/system-release"]


def test_the_root_outlives_the_source_and_goes_with_the_last_image(tmp_path: Path) -> None:
    store = RootStore(tmp_path / "roots")
    store.create_image("ami-source", FILES)
    store.copy_image("ami-source", "ami-b")
    store.copy_image("ami-source", "ami-c")
    store.drop_image("ami-source")
    assert not store.image("ami-source").exists()
    assert image_dirs(store) == ["ami-b"]  # named after an image still registered
    assert release_of(store, "ami-c", "i-1") == FILES["/etc/system-release"]
    store.drop_image("ami-b")
    assert image_dirs(store) == ["ami-c"]
    assert release_of(store, "ami-c", "i-2") == FILES["/etc/system-release"]
    store.drop_image("ami-c")
    assert image_dirs(store) == []


def test_a_copy_dropped_first_leaves_the_source_as_it_was(tmp_path: Path) -> None:
    store = RootStore(tmp_path / "roots")
    store.create_image("ami-source", FILES)
    store.copy_image("ami-source", "ami-copy")
    store.drop_image("ami-copy")
    assert not store.image("ami-copy").exists()
    assert image_dirs(store) == ["ami-source"]
    store.drop_image("ami-source")
    assert image_dirs(store) == []


def test_a_copy_of_an_image_without_a_root_has_none(tmp_path: Path) -> None:
    store = RootStore(tmp_path / "roots")
    store.copy_image("ami-unknown", "ami-copy")
    assert not store.image("ami-copy").is_dir()
    assert (store.launch("ami-copy", "i-1") / "etc").exists() is False
