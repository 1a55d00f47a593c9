//! One function per DynamoDB operation, and [`call`], which routes an operation name to it.

pub mod items;
pub mod tables;

use serde::Serialize;

use super::{store::DynamoDb, wire::from_json};
use crate::edge::{AwsError, ErrorCode, RequestContext};

/// The state the operations work on.
pub type Db = DynamoDb;

/// Every operation of the DynamoDB API (2012-08-10), so that an unimplemented one is named, not unknown.
const ALL_OPERATIONS: &[&str] = &[
    "BatchExecuteStatement",
    "BatchGetItem",
    "BatchWriteItem",
    "CreateBackup",
    "CreateGlobalTable",
    "CreateTable",
    "DeleteBackup",
    "DeleteItem",
    "DeleteResourcePolicy",
    "DeleteTable",
    "DescribeBackup",
    "DescribeContinuousBackups",
    "DescribeContributorInsights",
    "DescribeEndpoints",
    "DescribeExport",
    "DescribeGlobalTable",
    "DescribeGlobalTableSettings",
    "DescribeImport",
    "DescribeKinesisStreamingDestination",
    "DescribeLimits",
    "DescribeTable",
    "DescribeTableReplicaAutoScaling",
    "DescribeTimeToLive",
    "DisableKinesisStreamingDestination",
    "EnableKinesisStreamingDestination",
    "ExecuteStatement",
    "ExecuteTransaction",
    "ExportTableToPointInTime",
    "GetItem",
    "GetResourcePolicy",
    "ImportTable",
    "ListBackups",
    "ListContributorInsights",
    "ListExports",
    "ListGlobalTables",
    "ListImports",
    "ListTables",
    "ListTagsOfResource",
    "PutItem",
    "PutResourcePolicy",
    "Query",
    "RestoreTableFromBackup",
    "RestoreTableToPointInTime",
    "Scan",
    "TagResource",
    "TransactGetItems",
    "TransactWriteItems",
    "UntagResource",
    "UpdateContinuousBackups",
    "UpdateContributorInsights",
    "UpdateGlobalTable",
    "UpdateGlobalTableSettings",
    "UpdateItem",
    "UpdateKinesisStreamingDestination",
    "UpdateTable",
    "UpdateTableReplicaAutoScaling",
    "UpdateTimeToLive",
];

fn to_body<T: Serialize>(output: &T) -> Result<Vec<u8>, AwsError> {
    serde_json::to_vec(output).map_err(AwsError::internal)
}

/// Runs the DynamoDB operation `operation` on a JSON request body and returns the JSON response body.
pub fn call(db: &Db, ctx: &RequestContext, operation: &str, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    match operation {
        "PutItem" => to_body(&items::put_item(db, ctx, from_json(body)?)?),
        "GetItem" => to_body(&items::get_item(db, ctx, from_json(body)?)?),
        "UpdateItem" => to_body(&items::update_item(db, ctx, from_json(body)?)?),
        "DeleteItem" => to_body(&items::delete_item(db, ctx, from_json(body)?)?),
        "CreateTable" => to_body(&tables::create_table(db, ctx, from_json(body)?)?),
        "DescribeTable" => to_body(&tables::describe_table(db, ctx, from_json(body)?)?),
        "ListTables" => to_body(&tables::list_tables(db, ctx, from_json(body)?)?),
        "UpdateTable" => to_body(&tables::update_table(db, ctx, from_json(body)?)?),
        "DeleteTable" => to_body(&tables::delete_table(db, ctx, from_json(body)?)?),
        "DescribeLimits" => {
            from_json::<serde::de::IgnoredAny>(body)?;
            to_body(&tables::describe_limits())
        }
        "DescribeEndpoints" => {
            from_json::<serde::de::IgnoredAny>(body)?;
            to_body(&tables::describe_endpoints(ctx))
        }
        known if ALL_OPERATIONS.contains(&known) => Err(AwsError::new(
            ErrorCode::UnknownOperationException,
            format!("DynamoDB operation {known} is not implemented by dynastream"),
        )),
        _ => Err(AwsError::bare(ErrorCode::UnknownOperationException)),
    }
}
