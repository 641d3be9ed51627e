"""The local stack's tables come from the CloudFormation template: names for the stage, the models' keys and
indexes, the responses stream, the on-failure queue, and a clear refusal when a model finds no table."""

from __future__ import annotations

import pytest

from nps_local import tables
from nps_local import template as cfn

REAL_TEMPLATE = cfn.TEMPLATE_PATH


@pytest.fixture
def fresh_moto():
    from moto import mock_aws

    from chalicelib import config

    with mock_aws():
        config.reset()
        yield


def describe(name: str) -> dict:
    import boto3

    return boto3.client("dynamodb", region_name="us-east-1").describe_table(TableName=name)["Table"]


def keys(schema: list[dict]) -> dict:
    return {k["AttributeName"]: k["KeyType"] for k in schema}


def test_every_model_gets_its_table_as_the_template_defines_it(fresh_moto, tmp_path):
    from chalicelib.store.models import MODELS

    made = tables.provision(None, REAL_TEMPLATE)

    assert made.tables == {key: f"nps-test-{key}" for key in MODELS}
    for key, model in MODELS.items():
        table = describe(made.tables[key])
        schema = model._get_schema()
        assert keys(table["KeySchema"]) == keys(schema["key_schema"])
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        live = {g["IndexName"]: keys(g["KeySchema"]) for g in table.get("GlobalSecondaryIndexes", [])}
        assert live == {g["index_name"]: keys(g["key_schema"]) for g in schema.get("global_secondary_indexes", [])}
    responses = describe(made.stream_table)
    assert responses["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert made.on_failure_queue_url and made.on_failure_queue_url in made.queues.values()
    mapping = made.stream_mapping
    assert mapping.report_item_failures and mapping.bisect_on_error
    assert mapping.max_retries is not None and mapping.batch_size >= 1
    assert made.warnings == []


def test_the_real_template_resolves_for_any_stage():
    doc = cfn.load(REAL_TEMPLATE)
    for stage in ("dev", "prod", "test"):
        resolver = cfn.Resolver(doc, stage=stage, table_prefix=f"nps-{stage}-", region="us-east-1")
        names = {t.table_name for t in cfn.tables(doc, resolver)}
        assert names and all(n.startswith(f"nps-{stage}-") for n in names)


def test_a_model_without_a_table_is_refused_clearly(fresh_moto, tmp_path):
    path = tmp_path / "template.yaml"
    text = REAL_TEMPLATE.read_text()
    start = text.index("  ContactsTable:")
    end = text.index("  AccountsTable:")
    path.write_text(text[:start] + text[end:])

    with pytest.raises(cfn.TemplateError, match="contacts"):
        tables.provision(None, path)


def test_a_table_without_a_name_takes_its_models_name(fresh_moto, tmp_path):
    path = tmp_path / "template.yaml"
    named = "      TableName: !Sub nps-${Stage}-admin_tokens\n"
    assert named in REAL_TEMPLATE.read_text()
    path.write_text(REAL_TEMPLATE.read_text().replace(named, ""))

    made = tables.provision(None, path)

    assert made.tables["admin_tokens"] == "nps-test-admin_tokens"


def test_short_tags_and_intrinsics_resolve():
    doc = {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}, "Suffix": {"Type": "String", "Default": "x"}},
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "nps-${Stage}-q"}}},
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "literal-name"}},
        },
    }
    r = cfn.Resolver(doc, stage="prod", table_prefix="nps-prod-", region="eu-west-1")

    assert r.resolve({"Fn::Sub": "a-${Stage}-${Suffix}-${AWS::Region}"}) == "a-prod-x-eu-west-1"
    assert r.resolve({"Fn::Sub": ["${A}-${Stage}", {"A": {"Ref": "Suffix"}}]}) == "x-prod"
    assert r.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-prod"
    assert r.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:aws:sqs:eu-west-1:123456789012:nps-prod-q"
    assert r.resolve({"Ref": "Table"}) == "literal-name"


def test_the_yaml_loader_reads_cloudformation_short_tags(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n"
        "  T:\n"
        "    Type: AWS::DynamoDB::Table\n"
        "    Properties:\n"
        "      TableName: !Sub nps-${Stage}-t\n"
        "      Arn: !GetAtt Other.StreamArn\n"
        "      Flag: !If [Cond, !Ref A, !Ref AWS::NoValue]\n"
    )
    props = cfn.load(path)["Resources"]["T"]["Properties"]
    assert props["TableName"] == {"Fn::Sub": "nps-${Stage}-t"}
    assert props["Arn"] == {"Fn::GetAtt": ["Other", "StreamArn"]}
    assert props["Flag"] == {"Fn::If": ["Cond", {"Ref": "A"}, {"Ref": "AWS::NoValue"}]}


def test_a_template_without_the_stream_mapping_is_refused(fresh_moto, tmp_path):
    """The poller takes its batch size, retries and failure queue from the template, never from defaults."""
    text = REAL_TEMPLATE.read_text()
    assert "Type: AWS::Lambda::EventSourceMapping" in text
    path = tmp_path / "template.yaml"
    path.write_text(
        text.replace("Type: AWS::Lambda::EventSourceMapping", "Type: AWS::CloudFormation::WaitConditionHandle")
    )

    with pytest.raises(cfn.TemplateError, match="stream"):
        tables.provision(None, path)
