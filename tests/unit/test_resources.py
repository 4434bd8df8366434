from ebami.core.resources import data_dir


def test_finds_templates_and_packer_folders() -> None:
    assert (data_dir("templates") / "cloud-config" / "al1.yaml.j2").is_file()
    assert data_dir("packer").is_dir()
