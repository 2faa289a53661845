//! The event sources a handler may be written for (`add-handler --event`), and
//! everything derived from one: its spelling in `lambdas.toml`, its sample
//! event in `test/fixtures/`, the template of its stub and the shared `utils/`
//! modules that stub uses. Pure.

use std::fmt;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::layout::Kind;

/// What invokes a handler. The doc comments are `add-handler --help`'s list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
pub enum EventSource {
    /// Kinesis stream records, each decoded from base64 JSON; partial batch response
    Kinesis,
    /// SQS messages with JSON bodies; partial batch response by message id
    Sqs,
    /// SNS notifications: the message and its attributes
    Sns,
    /// S3 object notifications: bucket and URL-decoded key of each object
    S3,
    /// DynamoDB stream records as plain values; partial batch response
    Dynamodb,
    /// EventBridge events: source, detail-type and detail
    Eventbridge,
    /// EventBridge schedules: the scheduled time
    Schedule,
    /// API Gateway HTTP API requests (payload format 2.0) and a proxy response
    HttpApi,
    /// API Gateway REST API requests (payload format 1.0) and a proxy response
    RestApi,
    /// Lambda function URL requests (payload format 2.0) and a proxy response
    FunctionUrl,
}

impl EventSource {
    /// The source as `--event` and `lambdas.toml` spell it: `http-api`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::Kinesis => "kinesis",
            EventSource::Sqs => "sqs",
            EventSource::Sns => "sns",
            EventSource::S3 => "s3",
            EventSource::Dynamodb => "dynamodb",
            EventSource::Eventbridge => "eventbridge",
            EventSource::Schedule => "schedule",
            EventSource::HttpApi => "http-api",
            EventSource::RestApi => "rest-api",
            EventSource::FunctionUrl => "function-url",
        }
    }

    /// The source spelled exactly as `lambdas.toml` spells it.
    pub fn from_manifest(value: &str) -> Option<Self> {
        Self::value_variants()
            .iter()
            .copied()
            .find(|s| s.as_str() == value)
    }

    /// Every spelling, for messages: "`kinesis`, `sqs`, ...".
    pub fn spellings() -> String {
        let all: Vec<String> = Self::value_variants()
            .iter()
            .map(|s| format!("`{s}`"))
            .collect();
        all.join(", ")
    }

    /// The source of a kind's handlers when none is given (and of a manifest
    /// entry without `event`).
    pub fn default_for(kind: Kind) -> Self {
        match kind {
            Kind::Producers => EventSource::Eventbridge,
            Kind::Consumers => EventSource::Kinesis,
            Kind::Handlers => EventSource::HttpApi,
        }
    }

    /// Its sample event's file name in `test/fixtures/`, shared by all its handlers.
    pub fn fixture(self) -> &'static str {
        match self {
            EventSource::Kinesis => "kinesis_event.json",
            EventSource::Sqs => "sqs_event.json",
            EventSource::Sns => "sns_event.json",
            EventSource::S3 => "s3_event.json",
            EventSource::Dynamodb => "dynamodb_event.json",
            EventSource::Eventbridge => "eventbridge_event.json",
            EventSource::Schedule => "schedule_event.json",
            EventSource::HttpApi => "http_api_event.json",
            EventSource::RestApi => "api_gateway_event.json",
            EventSource::FunctionUrl => "function_url_event.json",
        }
    }

    /// Its sample event, relative to the project root: the default of `invoke`.
    pub fn fixture_path(self) -> PathBuf {
        Path::new("test/fixtures").join(self.fixture())
    }

    /// The template set of its stub and test (`templates/sources/<stub>/`):
    /// the three HTTP sources share one, as `utils.http` reads all three.
    pub fn stub(self) -> &'static str {
        match self {
            EventSource::HttpApi | EventSource::RestApi | EventSource::FunctionUrl => "http",
            other => other.as_str(),
        }
    }

    /// The shared `utils/` modules its stub uses (`templates/helpers/<helper>/`),
    /// written with the first handler that needs them and never rewritten.
    pub fn helpers(self) -> &'static [&'static str] {
        match self {
            EventSource::Kinesis | EventSource::Sqs | EventSource::Dynamodb => &["batch"],
            EventSource::HttpApi | EventSource::RestApi | EventSource::FunctionUrl => &["http"],
            _ => &[],
        }
    }

    /// Names its stub binds at its top level besides the handler, for a
    /// handler of `kind`: a handler named after one of them would shadow it
    /// (`def json(...)` hides `import json`).
    pub fn module_names(self, kind: Kind) -> &'static [&'static str] {
        match self {
            // Producers publish what they receive to the log; the other kinds handle it.
            EventSource::Eventbridge if kind != Kind::Producers => &[
                "Any",
                "EventBridgeEvent",
                "LambdaContext",
                "dataclass",
                "decode_event",
                "get_logger",
                "handle_event",
                "logger",
            ],
            EventSource::Kinesis => &[
                "Any",
                "BatchResponse",
                "LambdaContext",
                "base64",
                "decode_record",
                "get_logger",
                "handle_record",
                "json",
                "logger",
                "process_batch",
            ],
            EventSource::Sqs => &[
                "Any",
                "BatchResponse",
                "LambdaContext",
                "Message",
                "dataclass",
                "decode_message",
                "get_logger",
                "handle_message",
                "json",
                "logger",
                "process_batch",
            ],
            EventSource::Dynamodb => &[
                "Any",
                "BatchResponse",
                "Change",
                "Decimal",
                "LambdaContext",
                "b64decode",
                "dataclass",
                "decode_record",
                "get_logger",
                "handle_change",
                "logger",
                "plain_value",
                "process_batch",
            ],
            EventSource::Sns => &[
                "Any",
                "LambdaContext",
                "Notification",
                "dataclass",
                "decode_notifications",
                "get_logger",
                "handle_notification",
                "logger",
            ],
            EventSource::S3 => &[
                "Any",
                "LambdaContext",
                "S3Object",
                "dataclass",
                "decode_objects",
                "get_logger",
                "handle_object",
                "logger",
                "unquote_plus",
            ],
            EventSource::Eventbridge => &[
                "Any",
                "LambdaContext",
                "Mapping",
                "cache",
                "get_logger",
                "json",
                "kinesis_client",
                "logger",
                "os",
                "stream_name",
                "to_record",
            ],
            EventSource::Schedule => &[
                "Any",
                "LambdaContext",
                "datetime",
                "get_logger",
                "logger",
                "run_job",
                "scheduled_time",
            ],
            EventSource::HttpApi | EventSource::RestApi | EventSource::FunctionUrl => {
                &["Any", "LambdaContext", "Request", "echo", "greet", "serve"]
            }
        }
    }
}

impl fmt::Display for EventSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_round_trips_through_its_manifest_spelling() {
        for source in EventSource::value_variants() {
            assert_eq!(EventSource::from_manifest(source.as_str()), Some(*source));
            let parsed = EventSource::from_str(source.as_str(), false).unwrap();
            assert_eq!(parsed, *source, "clap spells it as the manifest does");
        }
        assert_eq!(EventSource::from_manifest("HTTP-API"), None);
    }

    #[test]
    fn each_source_has_its_own_fixture() {
        let mut fixtures: Vec<_> = EventSource::value_variants()
            .iter()
            .map(|s| s.fixture())
            .collect();
        fixtures.sort();
        fixtures.dedup();
        assert_eq!(fixtures.len(), EventSource::value_variants().len());
    }
}
