//! The DynamoDB Streams API: ListStreams, DescribeStream, GetShardIterator, GetRecords.

use crate::{
    aws_error,
    dynamodb::{ops::Db, table::describe_key_schema, validate::Constraints, wire::from_json},
    edge::{AwsError, ErrorCode, RequestContext},
};

use super::{
    store::{ITERATOR_LIFETIME, IteratorKind, ShardIterator, parse_sequence, print_sequence},
    wire,
};

/// Most bytes one GetRecords returns.
const MAX_RECORDS_BYTES: usize = 1024 * 1024;

/// Every operation of the DynamoDB Streams API.
const ALL_OPERATIONS: &[&str] = &["DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"];

/// Runs a DynamoDB Streams operation on a JSON request body.
pub fn call(db: &Db, ctx: &RequestContext, operation: &str, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    let output = match operation {
        "ListStreams" => serde_json::to_vec(&list_streams(db, ctx, from_json(body)?)?),
        "DescribeStream" => serde_json::to_vec(&describe_stream(db, ctx, from_json(body)?)?),
        "GetShardIterator" => serde_json::to_vec(&get_shard_iterator(db, ctx, from_json(body)?)?),
        "GetRecords" => Ok(get_records(db, ctx, from_json(body)?)?.to_json()),
        known if ALL_OPERATIONS.contains(&known) => {
            return Err(AwsError::new(
                ErrorCode::UnknownOperationException,
                format!("DynamoDB Streams operation {known} is not implemented by dynastream"),
            ));
        }
        _ => return Err(AwsError::bare(ErrorCode::UnknownOperationException)),
    };
    output.map_err(AwsError::internal)
}

/// Whether a text looks like a stream ARN (`arn:aws:dynamodb:<region>:<account>:table/<T>/stream/<label>`).
fn is_stream_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "dynamodb"
        && parts[5].starts_with("table/")
        && parts[5].contains("/stream/")
}

fn stream_of(db: &Db, ctx: &RequestContext, arn: &str) -> Result<std::sync::Arc<super::Stream>, AwsError> {
    if !is_stream_arn(arn) {
        return Err(AwsError::validation("Invalid StreamArn"));
    }
    db.region(&ctx.account, &ctx.region)
        .streams
        .get(arn)
        .ok_or_else(|| {
            aws_error!(
                ResourceNotFoundException,
                "Requested resource not found: Stream: {arn} not found"
            )
        })
}

/// ListStreams.
pub fn list_streams(
    db: &Db,
    ctx: &RequestContext,
    input: wire::ListStreamsInput,
) -> Result<wire::ListStreamsOutput, AwsError> {
    let mut c = Constraints::new();
    c.name("tableName", input.table_name.as_deref(), false);
    c.at_least("limit", input.limit, 1);
    c.at_most("limit", input.limit, 100);
    if let Some(arn) = &input.exclusive_start_stream_arn {
        c.length("exclusiveStartStreamArn", arn, 37, 1024);
    }
    c.finish()?;
    let limit = input.limit.unwrap_or(100) as usize;
    let streams = db
        .region(&ctx.account, &ctx.region)
        .streams
        .list(input.table_name.as_deref());
    let start = match &input.exclusive_start_stream_arn {
        Some(arn) => streams
            .iter()
            .position(|s| s.arn == *arn)
            .map_or(streams.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<_> = streams.iter().skip(start).take(limit).collect();
    let more = streams.len() > start + page.len();
    Ok(wire::ListStreamsOutput {
        last_evaluated_stream_arn: if more {
            page.last().map(|s| s.arn.clone())
        } else {
            None
        },
        streams: page
            .into_iter()
            .map(|s| wire::StreamSummary {
                stream_arn: s.arn.clone(),
                table_name: s.table_name.clone(),
                stream_label: s.label.clone(),
            })
            .collect(),
    })
}

/// DescribeStream.
pub fn describe_stream(
    db: &Db,
    ctx: &RequestContext,
    input: wire::DescribeStreamInput,
) -> Result<wire::DescribeStreamOutput, AwsError> {
    let mut c = Constraints::new();
    c.not_null("streamArn", input.stream_arn.as_ref());
    c.at_least("limit", input.limit, 1);
    c.at_most("limit", input.limit, 100);
    if let Some(id) = &input.exclusive_start_shard_id {
        c.length("exclusiveStartShardId", id, 28, 65);
    }
    c.finish()?;
    let stream = stream_of(db, ctx, input.stream_arn.as_deref().unwrap_or_default())?;
    let limit = input.limit.unwrap_or(100) as usize;
    let shards = stream.shards();
    // NB: an unknown ExclusiveStartShardId yields no shards, as on AWS.
    let start = match &input.exclusive_start_shard_id {
        Some(id) => shards
            .iter()
            .position(|s| s.id == *id)
            .map_or(shards.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<_> = shards.iter().skip(start).take(limit).collect();
    let more = shards.len() > start + page.len();
    Ok(wire::DescribeStreamOutput {
        stream_description: wire::StreamDescription {
            stream_arn: stream.arn.clone(),
            stream_label: stream.label.clone(),
            stream_status: stream.status().as_str(),
            stream_view_type: stream.view_type.as_str(),
            creation_request_date_time: stream.created,
            table_name: stream.table_name.clone(),
            key_schema: describe_key_schema(&stream.key_schema),
            last_evaluated_shard_id: if more {
                page.last().map(|s| s.id.clone())
            } else {
                None
            },
            shards: page
                .into_iter()
                .map(|s| wire::ShardDescription {
                    shard_id: s.id.clone(),
                    parent_shard_id: s.parent.clone(),
                    sequence_number_range: wire::SequenceNumberRange {
                        starting_sequence_number: print_sequence(s.starting),
                        ending_sequence_number: s.ending.map(print_sequence),
                    },
                })
                .collect(),
        },
    })
}

/// GetShardIterator.
pub fn get_shard_iterator(
    db: &Db,
    ctx: &RequestContext,
    input: wire::GetShardIteratorInput,
) -> Result<wire::GetShardIteratorOutput, AwsError> {
    let mut c = Constraints::new();
    c.not_null("streamArn", input.stream_arn.as_ref());
    c.not_null("shardId", input.shard_id.as_ref());
    c.not_null("shardIteratorType", input.shard_iterator_type.as_ref());
    c.one_of(
        "shardIteratorType",
        input.shard_iterator_type.as_deref(),
        &[
            "TRIM_HORIZON",
            "LATEST",
            "AT_SEQUENCE_NUMBER",
            "AFTER_SEQUENCE_NUMBER",
        ],
    );
    if let Some(id) = &input.shard_id {
        c.length("shardId", id, 28, 65);
    }
    if let Some(sequence) = &input.sequence_number {
        c.length("sequenceNumber", sequence, 21, 40);
    }
    c.finish()?;
    let kind = input
        .shard_iterator_type
        .as_deref()
        .and_then(IteratorKind::parse)
        .unwrap_or(IteratorKind::Latest);
    let sequence = match (&input.sequence_number, kind) {
        (None, IteratorKind::AtSequenceNumber | IteratorKind::AfterSequenceNumber) => {
            return Err(AwsError::validation("Invalid SequenceNumber"));
        }
        (Some(_), IteratorKind::TrimHorizon | IteratorKind::Latest) => {
            return Err(AwsError::validation(
                "SequenceNumber should not be passed for this iterator type",
            ));
        }
        (Some(text), _) => {
            Some(parse_sequence(text).ok_or_else(|| AwsError::validation("Invalid SequenceNumber"))?)
        }
        (None, _) => None,
    };
    let stream = stream_of(db, ctx, input.stream_arn.as_deref().unwrap_or_default())?;
    let shard_id = input.shard_id.unwrap_or_default();
    let position = stream.iterator_position(&shard_id, kind, sequence)?;
    let iterator = ShardIterator {
        stream_arn: stream.arn.clone(),
        shard_id,
        position,
        issued_ms: jiff::Timestamp::now().as_millisecond(),
    };
    Ok(wire::GetShardIteratorOutput {
        shard_iterator: iterator.encode(),
    })
}

/// GetRecords.
pub fn get_records(
    db: &Db,
    ctx: &RequestContext,
    input: wire::GetRecordsInput,
) -> Result<wire::GetRecordsOutput, AwsError> {
    let mut c = Constraints::new();
    c.not_null("shardIterator", input.shard_iterator.as_ref());
    c.at_least("limit", input.limit, 1);
    c.at_most("limit", input.limit, 1000);
    if let Some(iterator) = &input.shard_iterator {
        c.length("shardIterator", iterator, 1, 2048);
    }
    c.finish()?;
    let text = input.shard_iterator.unwrap_or_default();
    let iterator =
        ShardIterator::decode(&text).ok_or_else(|| AwsError::validation("Invalid ShardIterator"))?;
    let age_ms = jiff::Timestamp::now().as_millisecond() - iterator.issued_ms;
    if age_ms > ITERATOR_LIFETIME.as_millis() as i64 {
        return Err(aws_error!(
            ExpiredIteratorException,
            "The provided iterator exceeds the maximum age allowed."
        ));
    }
    let stream = stream_of(db, ctx, &iterator.stream_arn)?;
    let limit = input.limit.unwrap_or(1000) as usize;
    let read = stream.read(&iterator.shard_id, iterator.position, limit, MAX_RECORDS_BYTES)?;
    let next = (!read.exhausted).then(|| {
        ShardIterator {
            position: read.next,
            issued_ms: jiff::Timestamp::now().as_millisecond(),
            ..iterator
        }
        .encode()
    });
    Ok(wire::GetRecordsOutput {
        records: read.records,
        next_shard_iterator: next,
    })
}
