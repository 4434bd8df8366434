"""Reading Packer's machine-readable lines."""

from __future__ import annotations

from ebami.packer.machine import (
    Artifact,
    OwnRemoval,
    UiKind,
    artifacts,
    own_image_removal,
    parse_artifact_id,
    parse_line,
    registered_image,
    ui_text,
)


def test_data_fields_are_unescaped() -> None:
    line = parse_line(
        "1795282540,amazon-ebs.aws,artifact,0,string,AMIs were created:\\nus-east-1: ami-1\\n"
    )
    assert line is not None
    assert (line.target, line.type) == ("amazon-ebs.aws", "artifact")
    assert line.data == ("0", "string", "AMIs were created:\nus-east-1: ami-1\n")


def test_packer_commas_are_restored_in_ui_text() -> None:
    raw = "1795282540,,ui,say,==> amazon-ebs.aws: No volumes to clean up%!(PACKER_COMMA) skipping"
    assert ui_text(raw) == (UiKind.SAY, "==> amazon-ebs.aws: No volumes to clean up, skipping")


def test_ui_kinds() -> None:
    assert ui_text("1,,ui,message,    amazon-ebs.aws: Instance ID: i-1")[0] is UiKind.MESSAGE
    assert ui_text("1,,ui,error,Build 'x' errored: boom") == (
        UiKind.ERROR,
        "Build 'x' errored: boom",
    )
    assert ui_text("1,amazon-ebs.aws,error,boom") == (UiKind.ERROR, "boom")
    assert ui_text("1,amazon-ebs.aws,artifact-count,1") == (UiKind.OTHER, "")


def test_text_that_is_not_machine_readable_is_kept() -> None:
    assert parse_line("panic: runtime error") is None
    assert ui_text("panic: runtime error, index out of range\n") == (
        UiKind.OTHER,
        "panic: runtime error, index out of range",
    )


def test_multi_region_artifacts_in_order_and_de_duplicated() -> None:
    lines = [
        parse_line(text)
        for text in (
            "1,amazon-ebs.aws,artifact,0,id,us-east-1:ami-1%!(PACKER_COMMA)eu-west-1:ami-2",
            "1,amazon-ebs.aws,artifact,0,builder-id,mitchellh.amazonebs",
            # The manifest post-processor hands the same artifact on.
            "1,amazon-ebs.aws,artifact,1,id,us-east-1:ami-1%!(PACKER_COMMA)eu-west-1:ami-2",
        )
    ]
    assert artifacts([line for line in lines if line is not None]) == [
        Artifact("us-east-1", "ami-1"),
        Artifact("eu-west-1", "ami-2"),
    ]


def test_artifact_ids_that_are_not_amis_are_ignored() -> None:
    assert parse_artifact_id("us-east-1:ami-1,something") == [Artifact("us-east-1", "ami-1")]
    assert parse_artifact_id("") == []


def test_the_ami_packer_registers_is_read_from_its_message() -> None:
    # What Packer prints right after CreateImage, long before it tags the AMI.
    kind, text = ui_text("1,,ui,message,    amazon-ebs.sandbox: AMI: ami-0a1b2c3d4e5f60718")
    assert registered_image(kind, text) == "ami-0a1b2c3d4e5f60718"
    # The same words in a step or in an error are not a registration.
    assert registered_image(UiKind.SAY, "amazon-ebs.aws: AMI: ami-1") is None
    assert registered_image(UiKind.ERROR, "amazon-ebs.aws: AMI: ami-1") is None
    kind, text = ui_text("1,,ui,message,    amazon-ebs.aws: Source AMI: ami-1 was not found")
    assert registered_image(kind, text) is None


def test_packer_removing_its_ami_itself_is_read_from_what_it_says() -> None:
    line = "1,,ui,say,==> amazon-ebs.aws: Deregistering the AMI because cancellation or error..."
    assert own_image_removal(*ui_text(line)) is OwnRemoval.STARTED
    older = "1,,ui,say,==> amazon-ebs.aws: Deregistering the AMI because cancelation or error..."
    assert own_image_removal(*ui_text(older)) is OwnRemoval.STARTED
    # The step that made the AMI, as Packer 1.6.6 says it (the IAM sweep met it: ebami waited
    # 300 s for an AMI Packer had removed itself).
    created = (
        "1,,ui,say,==> amazon-ebs.sandbox: Deregistering the AMI and deleting associated "
        "snapshots because of cancellation%!(PACKER_COMMA) or error..."
    )
    assert own_image_removal(*ui_text(created)) is OwnRemoval.STARTED
    failed = "1,,ui,error,Error deregistering AMI%!(PACKER_COMMA) may still be around: Throttling"
    assert own_image_removal(*ui_text(failed)) is OwnRemoval.FAILED
    # Packer logs "Deregistered AMI id" (never on the UI stream); force_deregister says it of
    # an older AMI of the same name, which is not this run's.
    said = "1,,ui,say,==> amazon-ebs.aws: Deregistered AMI id: ami-0a1b2c3d"
    assert own_image_removal(*ui_text(said)) is None
    assert own_image_removal(*ui_text("1,,ui,message,    amazon-ebs.aws: AMI: ami-0a1b")) is None
