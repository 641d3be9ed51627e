"""Read `infra/template.yaml`, the one definition of the tables, for the local stack: the tables (names, keys,
indexes, streams), the SQS queues, and the settings of the responses stream's event-source mapping.

Only the intrinsic functions a resource name or an ARN reference needs are resolved (Ref, Fn::Sub, Fn::Join,
Fn::GetAtt, Fn::Select, and Fn::If by its first branch); anything else is left as it is and reported when it
matters (a name that does not resolve is an error).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "infra" / "template.yaml"
LOCAL_ACCOUNT_ID = "123456789012"

TABLE_TYPE = "AWS::DynamoDB::Table"
QUEUE_TYPE = "AWS::SQS::Queue"
MAPPING_TYPE = "AWS::Lambda::EventSourceMapping"
SAM_FUNCTION_TYPE = "AWS::Serverless::Function"


class TemplateError(RuntimeError):
    """The template cannot describe the local stack (missing or unresolvable pieces)."""


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that reads CloudFormation's short tags (!Sub, !Ref, !GetAtt...) as their long form."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load(path: str | Path = TEMPLATE_PATH) -> dict:
    """The template as plain data, from YAML (with short tags) or JSON."""
    path = Path(path)
    if not path.exists():
        raise TemplateError(f"{path} does not exist: the local stack creates its tables from it")
    text = path.read_text()
    if path.suffix == ".json":
        return json.loads(text)
    doc = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise TemplateError(f"{path} has no Resources")
    return doc


@dataclass(frozen=True)
class TableDefinition:
    logical_id: str
    table_name: str
    create_args: dict
    time_to_live: str | None = None


@dataclass(frozen=True)
class QueueDefinition:
    logical_id: str
    queue_name: str
    attributes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StreamMapping:
    """The event-source mapping settings the poller honours (Lambda's defaults where the template is silent)."""

    table_logical_id: str | None = None
    batch_size: int = 100
    max_retries: int | None = None  # None: retry until the record expires (Lambda's -1)
    bisect_on_error: bool = False
    report_item_failures: bool = False
    starting_position: str = "LATEST"
    on_failure_queue: str | None = None  # the queue's logical id, or a literal queue name from an ARN
    function_name: str | None = None


class Resolver:
    """Resolves the intrinsic functions used in names and references, for one stage."""

    def __init__(self, template: dict, *, stage: str, table_prefix: str, region: str):
        self.template = template
        self.resources: dict = template.get("Resources") or {}
        self.values: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": f"nps-{stage}",
            "AWS::NoValue": None,
        }
        for name, spec in (template.get("Parameters") or {}).items():
            self.values[name] = self._parameter_value(name, spec or {}, stage, table_prefix)

    @staticmethod
    def _parameter_value(name: str, spec: dict, stage: str, table_prefix: str):
        key = name.lower()
        if key in ("stage", "stagename", "environment", "env", "chalicestage"):
            return stage
        if key in ("tableprefix", "prefix"):
            return table_prefix
        return spec.get("Default")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict) or len(value) != 1:
            return value
        ((fn, arg),) = value.items()
        if fn == "Ref":
            if arg in self.values:
                return self.values[arg]
            return self._ref_resource(arg)
        if fn == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1] if len(arg) > 1 else {})
            extra = {k: self.resolve(v) for k, v in (extra or {}).items()}
            return self._substitute(text, extra)
        if fn == "Fn::Join":
            sep, parts = arg
            return str(sep).join(str(self.resolve(p)) for p in self.resolve(parts))
        if fn == "Fn::GetAtt":
            logical, attr = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return self._get_att(logical, attr)
        if fn == "Fn::If":
            return self.resolve(arg[1])
        if fn == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        return value

    def _substitute(self, text: str, extra: dict) -> str:
        def one(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in extra:
                return str(extra[name])
            if name in self.values:
                return str(self.values[name])
            if "." in name:
                logical, attr = name.split(".", 1)
                return str(self._get_att(logical, attr))
            return str(self._ref_resource(name))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def _ref_resource(self, logical: str):
        resource = self.resources.get(logical)
        if resource is None:
            raise TemplateError(f"cannot resolve a reference to {logical!r}")
        if resource.get("Type") == TABLE_TYPE:
            return self.table_name(logical)
        if resource.get("Type") == QUEUE_TYPE:
            return (
                f"https://sqs.{self.values['AWS::Region']}.amazonaws.com/{LOCAL_ACCOUNT_ID}/{self.queue_name(logical)}"
            )
        return logical

    def _get_att(self, logical: str, attr: str):
        resource = self.resources.get(logical)
        if resource is None:
            raise TemplateError(f"cannot resolve !GetAtt {logical}.{attr}")
        region = self.values["AWS::Region"]
        kind = resource.get("Type")
        if kind == QUEUE_TYPE and attr == "Arn":
            return f"arn:aws:sqs:{region}:{LOCAL_ACCOUNT_ID}:{self.queue_name(logical)}"
        if kind == TABLE_TYPE and attr in ("Arn", "StreamArn"):
            arn = f"arn:aws:dynamodb:{region}:{LOCAL_ACCOUNT_ID}:table/{self.table_name(logical)}"
            return arn + "/stream/*" if attr == "StreamArn" else arn
        return f"{logical}.{attr}"

    def _name_property(self, logical: str, prop: str, fallback: str) -> str:
        props = self.resources[logical].get("Properties") or {}
        if prop not in props:
            return fallback
        name = self.resolve(props[prop])
        if not isinstance(name, str) or "${" in name:
            raise TemplateError(f"{logical}.{prop} does not resolve to a name: {props[prop]!r}")
        return name

    def table_name(self, logical: str) -> str:
        return self._name_property(logical, "TableName", "")

    def queue_name(self, logical: str) -> str:
        props = self.resources[logical].get("Properties") or {}
        fallback = _kebab(logical)
        if not fallback.startswith("nps-"):
            fallback = f"nps-{self.values['AWS::StackName'].removeprefix('nps-')}-{fallback}"
        if props.get("FifoQueue") and not fallback.endswith(".fifo"):
            fallback += ".fifo"
        return self._name_property(logical, "QueueName", fallback)


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def model_key_for(logical_id: str, table_name: str, models: dict, table_name_of) -> str | None:
    """Which PynamoDB model (by its MODELS key) a template table is: by name, else by its logical id."""
    for key in models:
        if table_name and table_name == table_name_of(key):
            return key
    wanted = _normalised(logical_id)
    wanted = wanted.removesuffix("table") or wanted
    for key, model in models.items():
        names = {_normalised(key), _normalised(model.__name__), _normalised(model.__name__) + "s"}
        if wanted in names or wanted.removesuffix("s") in {n.removesuffix("s") for n in names}:
            return key
    return None


_GSI_KEYS = ("IndexName", "KeySchema", "Projection")


def tables(template: dict, resolver: Resolver, *, default_name=None) -> list[TableDefinition]:
    """Every AWS::DynamoDB::Table, as create_table arguments (on-demand billing, as in the template)."""
    out = []
    for logical, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != TABLE_TYPE:
            continue
        props = resource.get("Properties") or {}
        name = resolver.table_name(logical) or (default_name(logical) if default_name else "")
        if not name:
            raise TemplateError(f"table {logical} has no TableName and no model matches its logical id")
        args: dict = {
            "TableName": name,
            "KeySchema": resolver.resolve(props["KeySchema"]),
            "AttributeDefinitions": resolver.resolve(props["AttributeDefinitions"]),
            "BillingMode": "PAY_PER_REQUEST",
        }
        gsis = resolver.resolve(props.get("GlobalSecondaryIndexes") or [])
        if gsis:
            args["GlobalSecondaryIndexes"] = [{k: g[k] for k in _GSI_KEYS if k in g} for g in gsis]
        lsis = resolver.resolve(props.get("LocalSecondaryIndexes") or [])
        if lsis:
            args["LocalSecondaryIndexes"] = [{k: i[k] for k in _GSI_KEYS if k in i} for i in lsis]
        stream = resolver.resolve(props.get("StreamSpecification"))
        if stream and stream.get("StreamViewType"):
            args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        ttl = resolver.resolve(props.get("TimeToLiveSpecification")) or {}
        ttl_attr = ttl.get("AttributeName") if ttl.get("Enabled") in (True, "true", "True") else None
        out.append(TableDefinition(logical, name, args, ttl_attr))
    return out


def queues(template: dict, resolver: Resolver) -> list[QueueDefinition]:
    out = []
    for logical, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != QUEUE_TYPE:
            continue
        props = resource.get("Properties") or {}
        attributes = {}
        if props.get("FifoQueue"):
            attributes["FifoQueue"] = "true"
        for prop in ("MessageRetentionPeriod", "VisibilityTimeout"):
            if isinstance(resolver.resolve(props.get(prop)), (int, str)) and props.get(prop) is not None:
                attributes[prop] = str(resolver.resolve(props[prop]))
        redrive = props.get("RedrivePolicy")
        if isinstance(redrive, dict):  # a dead-letter queue named before its source queue, as SQS needs it
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": resolver.resolve(redrive["deadLetterTargetArn"]),
                    "maxReceiveCount": str(resolver.resolve(redrive["maxReceiveCount"])),
                }
            )
        out.append(QueueDefinition(logical, resolver.queue_name(logical), attributes))
    return out


def _refers_to_stream_of(value: Any) -> str | None:
    """The logical id of the table whose StreamArn `value` points at (GetAtt, Sub or Join of one)."""
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Fn::GetAtt":
            logical, attr = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return logical if attr == "StreamArn" else None
        if fn == "Fn::Sub" and isinstance(arg, str):
            match = re.search(r"\$\{(\w+)\.StreamArn\}", arg)
            return match.group(1) if match else None
    if isinstance(value, (list, dict)):
        for item in value.values() if isinstance(value, dict) else value:
            found = _refers_to_stream_of(item)
            if found:
                return found
    return None


def _destination_queue(value: Any, resolver: Resolver) -> str | None:
    """The on-failure queue: its logical id when the template defines it, else the name in a literal ARN."""
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Fn::GetAtt":
            return arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
        if fn == "Ref":
            resolved = resolver.resolve(value)
            if isinstance(resolved, str) and resolved.startswith("arn:aws:sqs:"):
                return resolved.rsplit(":", 1)[1]
            return arg
    resolved = resolver.resolve(value)
    if isinstance(resolved, str) and resolved.startswith("arn:aws:sqs:"):
        return resolved.rsplit(":", 1)[1]
    return None


def _mapping_from(props: dict, table: str | None, function_name, resolver: Resolver) -> StreamMapping:
    def setting(name, default):
        value = resolver.resolve(props.get(name))
        return default if value is None else value

    retries = int(setting("MaximumRetryAttempts", -1))
    destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    return StreamMapping(
        table_logical_id=table,
        batch_size=int(setting("BatchSize", 100)),
        max_retries=None if retries < 0 else retries,
        bisect_on_error=str(setting("BisectBatchOnFunctionError", False)).lower() == "true",
        report_item_failures="ReportBatchItemFailures" in (setting("FunctionResponseTypes", []) or []),
        starting_position=str(setting("StartingPosition", "LATEST")),
        on_failure_queue=_destination_queue(destination, resolver) if destination is not None else None,
        function_name=function_name,
    )


def stream_mappings(template: dict, resolver: Resolver) -> list[StreamMapping]:
    """The stream event-source mappings, as plain resources or as SAM function events."""
    out = []
    for logical, resource in (template.get("Resources") or {}).items():
        props = resource.get("Properties") or {}
        if resource.get("Type") == MAPPING_TYPE:
            table = _refers_to_stream_of(props.get("EventSourceArn"))
            if table:
                out.append(_mapping_from(props, table, _function_ref(props.get("FunctionName")), resolver))
        elif resource.get("Type") == SAM_FUNCTION_TYPE:
            for event in (props.get("Events") or {}).values():
                if (event or {}).get("Type") == "DynamoDB":
                    event_props = event.get("Properties") or {}
                    table = _refers_to_stream_of(event_props.get("Stream"))
                    if table:
                        out.append(_mapping_from(event_props, table, logical, resolver))
    return out


def _function_ref(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return str(arg)
        if fn == "Fn::GetAtt":
            return arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
    return value if isinstance(value, str) else None
