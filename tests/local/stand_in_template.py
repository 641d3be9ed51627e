"""A stand-in for infra/template.yaml, written from the PynamoDB models, for tests that run before (or
without) the real template. It uses the CloudFormation short tags the real one uses (!Sub, !GetAtt, !Ref)."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.store.models import MODELS

REAL_TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def write(path: Path, *, max_retries: int = 5, batch_size: int = 100) -> Path:
    lines = [
        'AWSTemplateFormatVersion: "2010-09-09"',
        "Parameters:",
        "  Stage: {Type: String, Default: dev}",
        "Resources:",
    ]
    for key, model in MODELS.items():
        schema = model._get_schema()
        gsis = [
            {
                "IndexName": g["index_name"],
                "KeySchema": sorted(g["key_schema"], key=lambda k: k["KeyType"] != "HASH"),
                "Projection": g["projection"],
            }
            for g in schema.get("global_secondary_indexes", [])
        ]
        lines += [
            f"  {_pascal(key)}Table:",
            "    Type: AWS::DynamoDB::Table",
            "    DeletionPolicy: Retain",
            "    Properties:",
            f'      TableName: !Sub "nps-${{Stage}}-{key}"',
            "      BillingMode: PAY_PER_REQUEST",
            f"      KeySchema: {json.dumps(sorted(schema['key_schema'], key=lambda k: k['KeyType'] != 'HASH'))}",
            f"      AttributeDefinitions: {json.dumps(schema['attribute_definitions'])}",
        ]
        if gsis:
            lines.append(f"      GlobalSecondaryIndexes: {json.dumps(gsis)}")
        if key == "responses":
            lines.append("      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}")
    lines += [
        "  StreamFailureQueue:",
        "    Type: AWS::SQS::Queue",
        "    Properties:",
        '      QueueName: !Sub "nps-${Stage}-stream-failures"',
        "  ResponseStreamMapping:",
        "    Type: AWS::Lambda::EventSourceMapping",
        "    Properties:",
        "      FunctionName: !Ref ResponseStream",
        "      EventSourceArn: !GetAtt ResponsesTable.StreamArn",
        "      StartingPosition: TRIM_HORIZON",
        f"      BatchSize: {batch_size}",
        f"      MaximumRetryAttempts: {max_retries}",
        "      BisectBatchOnFunctionError: true",
        "      FunctionResponseTypes: [ReportBatchItemFailures]",
        "      DestinationConfig:",
        "        OnFailure:",
        "          Destination: !GetAtt StreamFailureQueue.Arn",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def template_for_tests(tmp_dir: Path) -> Path:
    """The real template when it exists, else a stand-in written under tmp_dir."""
    if REAL_TEMPLATE.exists():
        return REAL_TEMPLATE
    return write(Path(tmp_dir) / "template.yaml")
