//! One function per DynamoDB operation, and [`call`], which routes an operation name to it.

pub mod batch;
pub mod items;
pub mod query_scan;
pub mod tables;
pub mod tags;
pub mod transactions;
pub mod ttl;

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
        "BatchGetItem" => to_body(&batch::batch_get_item(db, ctx, from_json(body)?)?),
        "BatchWriteItem" => to_body(&batch::batch_write_item(db, ctx, from_json(body)?)?),
        "TransactWriteItems" => to_body(&transactions::transact_write_items(db, ctx, from_json(body)?)?),
        "TransactGetItems" => to_body(&transactions::transact_get_items(db, ctx, from_json(body)?)?),
        "Query" => to_body(&query_scan::query(db, ctx, from_json(body)?)?),
        "Scan" => to_body(&query_scan::scan(db, ctx, from_json(body)?)?),
        "CreateTable" => to_body(&tables::create_table(db, ctx, from_json(body)?)?),
        "DescribeTable" => to_body(&tables::describe_table(db, ctx, from_json(body)?)?),
        "ListTables" => to_body(&tables::list_tables(db, ctx, from_json(body)?)?),
        "UpdateTable" => to_body(&tables::update_table(db, ctx, from_json(body)?)?),
        "DeleteTable" => to_body(&tables::delete_table(db, ctx, from_json(body)?)?),
        "UpdateTimeToLive" => to_body(&ttl::update_time_to_live(db, ctx, from_json(body)?)?),
        "DescribeTimeToLive" => to_body(&ttl::describe_time_to_live(db, ctx, from_json(body)?)?),
        // NB: AWS answers TagResource and UntagResource with an empty body.
        "TagResource" => tags::tag_resource(db, ctx, from_json(body)?).map(|()| Vec::new()),
        "UntagResource" => tags::untag_resource(db, ctx, from_json(body)?).map(|()| Vec::new()),
        "ListTagsOfResource" => to_body(&tags::list_tags_of_resource(db, ctx, from_json(body)?)?),
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    /// Arbitrary JSON, biased towards DynamoDB's member names and attribute-value shapes.
    fn json_value() -> impl Strategy<Value = Value> {
        let names = prop::sample::select(vec![
            "TableName",
            "Item",
            "Key",
            "S",
            "N",
            "B",
            "BOOL",
            "NULL",
            "M",
            "L",
            "SS",
            "NS",
            "BS",
            "ConditionExpression",
            "UpdateExpression",
            "ProjectionExpression",
            "ExpressionAttributeNames",
            "ExpressionAttributeValues",
            "ReturnValues",
            "KeySchema",
            "AttributeDefinitions",
            "AttributeName",
            "AttributeType",
            "KeyType",
            "BillingMode",
            "Expected",
            "AttributeUpdates",
            "Value",
            "Action",
            "#a",
            ":v",
            "pk",
            "x",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            prop::sample::select(vec![
                "t",
                "",
                "1",
                "1e400",
                "HASH",
                "S",
                "PAY_PER_REQUEST",
                "AAE=",
                "a = :v",
                "SET #a = :v"
            ])
            .prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::vec((names.clone(), inner), 0..5).prop_map(|pairs| Value::Object(
                    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// No request body, however malformed, panics any operation: it gets an answer or an AWS error.
        #[test]
        fn no_input_panics_any_operation(body in json_value(), op in prop::sample::select(vec![
            "PutItem", "GetItem", "UpdateItem", "DeleteItem", "CreateTable", "UpdateTable", "DescribeTable",
            "ListTables", "DeleteTable",
        ])) {
            let db = Db::default();
            let ctx = RequestContext::default_scope();
            // A table for the item operations to reach.
            let table = json!({
                "TableName": "tbl",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            });
            call(&db, &ctx, "CreateTable", table.to_string().as_bytes()).unwrap();
            let _ = call(&db, &ctx, op, body.to_string().as_bytes());
            let mut bytes = body.to_string().into_bytes();
            bytes.truncate(bytes.len() / 2);
            let _ = call(&db, &ctx, op, &bytes);
        }
    }
}
