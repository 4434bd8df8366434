"""The shape check's validator on hand-written raw bodies: an answer that matches botocore's
output shape passes; each kind of mismatch is reported with its operation and member path, in
the query, ec2 and json protocols; errors are held to their code and message."""

from __future__ import annotations

from functools import cache

import botocore.session
import pytest
from botocore.model import ServiceModel

from tests.support.shapecheck.allowed import outside, report
from tests.support.shapecheck.findings import ENUM, ERROR, MISSING, TYPE, UNKNOWN, Finding
from tests.support.shapecheck.server_side import operation_of
from tests.support.shapecheck.validator import check

AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=AKID/20240131/us-east-1/{}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abc"
)


@cache
def model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def findings(service: str, operation: str, body: str, status: int = 200) -> list[Finding]:
    return check(model(service), operation, body.encode(), status, {})


def problems(found: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.operation, f.path, f.kind) for f in found]


# --- query (Elastic Beanstalk) ---------------------------------------------------------------

EB_ENVIRONMENT = """
      <member>
        <EnvironmentName>staging</EnvironmentName>
        <EnvironmentId>e-abcdef1234</EnvironmentId>
        <Status>{status}</Status>
        <Health>Green</Health>
        <DateCreated>2024-01-31T12:00:00.000Z</DateCreated>
        <AbortableOperationInProgress>{abortable}</AbortableOperationInProgress>
        <Tier><Name>WebServer</Name><Type>Standard</Type><Version>1.0</Version></Tier>
        <EnvironmentLinks/>
        {extra}
      </member>"""


def describe_environments(status: str = "Ready", abortable: str = "false", extra: str = "") -> str:
    environment = EB_ENVIRONMENT.format(status=status, abortable=abortable, extra=extra)
    return f"""<DescribeEnvironmentsResponse
    xmlns="http://elasticbeanstalk.amazonaws.com/docs/2010-12-01/">
  <DescribeEnvironmentsResult>
    <Environments>{environment}
    </Environments>
  </DescribeEnvironmentsResult>
  <ResponseMetadata><RequestId>5d1c7b1e-0000-4000-8000-000000000000</RequestId></ResponseMetadata>
</DescribeEnvironmentsResponse>"""


def test_a_query_answer_that_matches_the_model_passes() -> None:
    assert findings("elasticbeanstalk", "DescribeEnvironments", describe_environments()) == []


def test_query_unknown_member() -> None:
    found = findings(
        "elasticbeanstalk",
        "DescribeEnvironments",
        describe_environments(extra="<Colour>x</Colour>"),
    )
    assert problems(found) == [
        ("elasticbeanstalk.DescribeEnvironments", "Environments[0].Colour", UNKNOWN)
    ]


def test_query_enum_value_outside_the_model() -> None:
    [found] = findings(
        "elasticbeanstalk", "DescribeEnvironments", describe_environments(status="Sleeping")
    )
    assert (found.path, found.kind, found.shape, found.value) == (
        "Environments[0].Status",
        ENUM,
        "EnvironmentStatus",
        "Sleeping",
    )
    assert found.pattern == "Environments[].Status"


def test_query_wrong_scalar_type() -> None:
    found = findings(
        "elasticbeanstalk", "DescribeEnvironments", describe_environments(abortable="yes")
    )
    assert problems(found) == [
        ("elasticbeanstalk.DescribeEnvironments", "Environments[0].AbortableOperationInProgress",
         TYPE)
    ]  # fmt: skip


def test_query_missing_required_member() -> None:
    body = """<DescribeApplicationVersionsResponse>
  <DescribeApplicationVersionsResult><ApplicationVersions><member>
    <ApplicationName>webapp</ApplicationName><VersionLabel>v42</VersionLabel>
    <SourceBuildInformation><SourceType>Zip</SourceType><SourceRepository>S3</SourceRepository>
    </SourceBuildInformation>
  </member></ApplicationVersions></DescribeApplicationVersionsResult>
  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
</DescribeApplicationVersionsResponse>"""
    found = findings("elasticbeanstalk", "DescribeApplicationVersions", body)
    assert problems(found) == [
        ("elasticbeanstalk.DescribeApplicationVersions",
         "ApplicationVersions[0].SourceBuildInformation.SourceLocation", MISSING)
    ]  # fmt: skip


def test_query_envelope_without_result_wrapper_or_request_id() -> None:
    body = "<DescribeEnvironmentsResponse><Environments/></DescribeEnvironmentsResponse>"
    assert sorted(f.path for f in findings("elasticbeanstalk", "DescribeEnvironments", body)) == [
        "DescribeEnvironmentsResult", "Environments", "ResponseMetadata"
    ]  # fmt: skip


def test_query_wrong_timestamp_form() -> None:
    body = describe_environments().replace("2024-01-31T12:00:00.000Z", "2024-01-31 12:00:00")
    [found] = findings("elasticbeanstalk", "DescribeEnvironments", body)
    assert (found.path, found.kind) == ("Environments[0].DateCreated", TYPE)


# --- ec2 -------------------------------------------------------------------------------------

EC2_IMAGE = """<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <imagesSet>
    <item>
      <imageId>ami-0123456789abcdef0</imageId>
      <imageState>{state}</imageState>
      <isPublic>{public}</isPublic>
      <creationDate>2024-01-31T12:00:00.000Z</creationDate>
      <rootDeviceType>ebs</rootDeviceType>
      <blockDeviceMapping><item><deviceName>/dev/xvda</deviceName>
        <ebs><volumeSize>8</volumeSize><deleteOnTermination>true</deleteOnTermination></ebs>
      </item></blockDeviceMapping>
      <tagSet><item><key>Name</key><value>base</value></item></tagSet>
      {extra}
    </item>
  </imagesSet>
</DescribeImagesResponse>"""


def describe_images(state: str = "available", public: str = "false", extra: str = "") -> str:
    return EC2_IMAGE.format(state=state, public=public, extra=extra)


def test_an_ec2_answer_that_matches_the_model_passes() -> None:
    assert findings("ec2", "DescribeImages", describe_images()) == []


def test_ec2_unknown_member_by_its_wire_name() -> None:
    found = findings(
        "ec2", "DescribeImages", describe_images(extra="<RootDeviceType>ebs</RootDeviceType>")
    )
    assert problems(found) == [("ec2.DescribeImages", "Images[0].RootDeviceType", UNKNOWN)]


def test_ec2_enum_and_type() -> None:
    found = findings("ec2", "DescribeImages", describe_images(state="melting", public="1"))
    assert problems(found) == [
        ("ec2.DescribeImages", "Images[0].State", ENUM),
        ("ec2.DescribeImages", "Images[0].Public", TYPE),
    ]


def test_ec2_list_items_must_be_item_elements() -> None:
    body = (
        describe_images()
        .replace("<item><key>", "<member><key>")
        .replace("</value></item>", "</value></member>")
    )
    found = findings("ec2", "DescribeImages", body)
    assert problems(found) == [("ec2.DescribeImages", "Images[0].Tags.member", UNKNOWN)]


def test_ec2_missing_required_member() -> None:
    body = """<DescribeSpotInstanceRequestsResponse><requestId>r-1</requestId>
  <spotInstanceRequestSet><item><launchSpecification><monitoring/></launchSpecification></item>
  </spotInstanceRequestSet></DescribeSpotInstanceRequestsResponse>"""
    found = findings("ec2", "DescribeSpotInstanceRequests", body)
    assert problems(found) == [
        ("ec2.DescribeSpotInstanceRequests",
         "SpotInstanceRequests[0].LaunchSpecification.Monitoring.Enabled", MISSING)
    ]  # fmt: skip


def test_ec2_operation_without_output_may_answer_return_only() -> None:
    good = (
        "<CreateTagsResponse><requestId>r-1</requestId><return>true</return></CreateTagsResponse>"
    )
    assert findings("ec2", "CreateTags", good) == []
    bad = "<CreateTagsResponse><requestId>r-1</requestId><tagSet/></CreateTagsResponse>"
    assert problems(findings("ec2", "CreateTags", bad)) == [("ec2.CreateTags", "tagSet", UNKNOWN)]


# --- json (SSM) ------------------------------------------------------------------------------


def get_parameter(**changes: object) -> str:
    import json

    parameter = {
        "Name": "/ebami/al1/latest",
        "Type": "String",
        "Value": "ami-0123456789abcdef0",
        "Version": 3,
        "LastModifiedDate": 1706702400.123,
        "ARN": "arn:aws:ssm:us-east-1:123456789012:parameter/ebami/al1/latest",
        "DataType": "aws:ec2:image",
        **changes,
    }
    return json.dumps({"Parameter": {k: v for k, v in parameter.items() if v != "-"}})


def test_a_json_answer_that_matches_the_model_passes() -> None:
    assert findings("ssm", "GetParameter", get_parameter()) == []


@pytest.mark.parametrize(
    ("changes", "path", "kind"),
    [
        ({"Colour": "red"}, "Parameter.Colour", UNKNOWN),
        ({"Type": "Text"}, "Parameter.Type", ENUM),
        ({"Version": "3"}, "Parameter.Version", TYPE),
        ({"Version": True}, "Parameter.Version", TYPE),
        ({"LastModifiedDate": "2024-01-31T12:00:00Z"}, "Parameter.LastModifiedDate", TYPE),
        ({"Value": None}, "Parameter.Value", TYPE),
    ],
)
def test_json_findings(changes: dict[str, object], path: str, kind: str) -> None:
    found = findings("ssm", "GetParameter", get_parameter(**changes))
    assert problems(found) == [("ssm.GetParameter", path, kind)]


def test_json_missing_required_member() -> None:
    body = '{"TagList": [{"Key": "team", "Value": "web"}, {"Key": "owner"}]}'
    found = findings("ssm", "ListTagsForResource", body)
    assert problems(found) == [("ssm.ListTagsForResource", "TagList[1].Value", MISSING)]


def test_json_body_that_is_not_json() -> None:
    [found] = findings("ssm", "GetParameter", "<html>oops</html>")
    assert found.path == ""
    assert "not JSON" in found.detail


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "body"),
    [
        ("elasticbeanstalk", "DescribeEnvironments",
         "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded"
         "</Message></Error><RequestId>r</RequestId></ErrorResponse>"),
        ("ec2", "DescribeImages",
         "<Response><Errors><Error><Code>InvalidAMIID.NotFound</Code><Message>gone</Message>"
         "</Error></Errors><RequestID>r</RequestID></Response>"),
        ("ssm", "GetParameter", '{"__type": "ParameterNotFound", "message": ""}'),
    ],
)  # fmt: skip
def test_an_error_with_code_and_message_passes(service: str, operation: str, body: str) -> None:
    assert findings(service, operation, body, status=400) == []


@pytest.mark.parametrize(
    ("service", "operation", "body"),
    [
        ("elasticbeanstalk", "DescribeEnvironments",
         "<ErrorResponse><Error><Message>no code</Message></Error></ErrorResponse>"),
        ("ec2", "DescribeImages", "<ErrorResponse><Error><Code>X</Code><Message>m</Message>"
         "</Error></ErrorResponse>"),
        ("ssm", "GetParameter", '{"__type": "ParameterNotFound"}'),
        ("ssm", "GetParameter", '{"message": "no code"}'),
    ],
)  # fmt: skip
def test_an_error_without_code_or_message_is_reported(
    service: str, operation: str, body: str
) -> None:
    [found] = findings(service, operation, body, status=400)
    assert found.kind == ERROR


def test_an_html_error_is_reported() -> None:
    [found] = findings("ec2", "DescribeImages", "<html><body>500</body>", status=500)
    assert found.path == ""


# --- the allow-list --------------------------------------------------------------------------


def test_the_allow_list_lets_through_only_what_aws_s_model_gets_wrong() -> None:
    body = """<DescribeEnvironmentHealthResponse><DescribeEnvironmentHealthResult>
      <Status>{}</Status></DescribeEnvironmentHealthResult>
      <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
    </DescribeEnvironmentHealthResponse>"""
    ready = findings("elasticbeanstalk", "DescribeEnvironmentHealth", body.format("Ready"))
    assert [f.kind for f in ready] == [ENUM]
    assert outside(ready) == []
    sleeping = findings("elasticbeanstalk", "DescribeEnvironmentHealth", body.format("Sleeping"))
    assert outside(sleeping) == sleeping
    assert len(sleeping) == 1


def test_the_allow_list_lets_through_tier_of_a_configuration_set_only() -> None:
    body = """<DescribeConfigurationSettingsResponse><DescribeConfigurationSettingsResult>
      <ConfigurationSettings><member>
        <EnvironmentName>prod</EnvironmentName><{0}><Name>WebServer</Name></{0}>
      </member></ConfigurationSettings></DescribeConfigurationSettingsResult>
      <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
    </DescribeConfigurationSettingsResponse>"""
    tier = findings("elasticbeanstalk", "DescribeConfigurationSettings", body.format("Tier"))
    assert [f.kind for f in tier] == [UNKNOWN]
    assert outside(tier) == []
    other = findings("elasticbeanstalk", "DescribeConfigurationSettings", body.format("Rank"))
    assert [f.kind for f in outside(other)] == [UNKNOWN]


def test_the_report_names_operation_path_and_problem_once_per_place() -> None:
    body = describe_images(state="melting")
    found = findings("ec2", "DescribeImages", body) * 2
    text = report(found, answers=7)
    assert text.splitlines() == [
        "2 finding(s) outside the allow-list (tests/support/shapecheck/allowed.py) in 7 sandbox "
        "answers checked against botocore's output shapes:",
        "  ec2.DescribeImages Images[].State: value not in enum: 'melting' is not one of "
        "ImageState's values (pending, available, invalid, deregistered, transient, failed, "
        "error, disabled) (x2)",
    ]


@pytest.mark.parametrize(
    ("environ", "body", "called"),
    [
        ({"HTTP_AUTHORIZATION": AUTHORIZATION.format("ec2"),
          "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8"},
         b"Action=RunInstances&Version=2016-11-15", ("ec2", "RunInstances")),
        ({"HTTP_AUTHORIZATION": AUTHORIZATION.format("ssm"),
          "HTTP_X_AMZ_TARGET": "AmazonSSM.GetParameter"}, b"{}", ("ssm", "GetParameter")),
        ({"HTTP_AUTHORIZATION": AUTHORIZATION.format("ec2"),
          "QUERY_STRING": "Action=DescribeImages"}, b"", ("ec2", "DescribeImages")),
        ({"CONTENT_TYPE": "application/x-www-form-urlencoded"}, b"Action=RunInstances", None),
        ({"HTTP_AUTHORIZATION": AUTHORIZATION.format("s3")}, b"", None),
    ],
)  # fmt: skip
def test_the_server_side_check_reads_the_operation_as_aws_does(
    environ: dict[str, str], body: bytes, called: tuple[str, str] | None
) -> None:
    assert operation_of(environ, body) == called
