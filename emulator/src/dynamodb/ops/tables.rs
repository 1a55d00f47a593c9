//! Table operations: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable, DescribeLimits,
//! DescribeEndpoints.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::{
    aws_error,
    dynamodb::{
        key::{KeyAttribute, KeySchema, ScalarType},
        table::{
            BillingMode, Index, StreamSetting, Table, TableMeta, TableStatus, Throughput, now_epoch_seconds,
            stream_label_now,
        },
        validate::{Constraints, enums},
        value::INVALID_PARAMETERS,
        wire::{self, AttributeDefinition, KeySchemaElement},
    },
    edge::{AwsError, RequestContext},
};

use super::Db;
use crate::streams::{Stream, ViewType};

/// Most capacity units AWS accepts in a request.
const MAX_CAPACITY: i64 = 1_000_000_000_000;
/// Per-table limits.
const MAX_LOCAL_INDEXES: usize = 5;
const MAX_GLOBAL_INDEXES: usize = 20;

fn invalid(message: impl std::fmt::Display) -> AwsError {
    AwsError::validation(format!("{INVALID_PARAMETERS}{message}"))
}

/// `current` with a request's OnDemandThroughput applied: each member given sets that maximum, -1 removes it.
/// dynastream keeps and describes the maxima; it throttles no request, as it holds no table to its provisioned
/// capacity either.
fn on_demand_applied(
    current: &wire::OnDemandThroughput,
    request: &wire::OnDemandThroughput,
    of: &str,
) -> Result<wire::OnDemandThroughput, AwsError> {
    let member = |name: &str, current: Option<i64>, requested: Option<i64>| match requested {
        None => Ok(current),
        Some(-1) => Ok(None),
        Some(units) if units >= 1 => Ok(Some(units)),
        Some(_) => Err(invalid(format_args!(
            "Requested {name} for OnDemandThroughput for {of} is outside of valid range"
        ))),
    };
    Ok(wire::OnDemandThroughput {
        max_read_request_units: member(
            "MaxReadRequestUnits",
            current.max_read_request_units,
            request.max_read_request_units,
        )?,
        max_write_request_units: member(
            "MaxWriteRequestUnits",
            current.max_write_request_units,
            request.max_write_request_units,
        )?,
    })
}

/// A GSI's OnDemandThroughput with its request applied; what else the request asks of it that dynastream does
/// not implement is refused.
fn index_on_demand(
    index: &wire::SecondaryIndex,
    current: &wire::OnDemandThroughput,
    operation: &str,
) -> Result<wire::OnDemandThroughput, AwsError> {
    if let Some(message) = index.others.refusal(operation) {
        return Err(AwsError::validation(message));
    }
    match &index.on_demand_throughput {
        Some(request) => on_demand_applied(current, request, "index"),
        None => Ok(current.clone()),
    }
}

/// CreateTable.
pub fn create_table(db: &Db, ctx: &RequestContext, input: wire::CreateTableInput) -> Result<Value, AwsError> {
    let mut c = Constraints::new();
    c.name("tableName", input.table_name.as_deref(), true);
    c.not_null("attributeDefinitions", input.attribute_definitions.as_ref());
    c.not_null("keySchema", input.key_schema.as_ref());
    check_key_schema_constraints(&mut c, "keySchema", input.key_schema.as_deref());
    for (i, def) in input.attribute_definitions.iter().flatten().enumerate() {
        let path = format!("attributeDefinitions.{}.member", i + 1);
        c.not_null(&format!("{path}.attributeName"), def.attribute_name.as_ref());
        c.not_null(&format!("{path}.attributeType"), def.attribute_type.as_ref());
        c.one_of(
            &format!("{path}.attributeType"),
            def.attribute_type.as_deref(),
            enums::SCALAR_ATTRIBUTE_TYPE,
        );
    }
    c.one_of("billingMode", input.billing_mode.as_deref(), enums::BILLING_MODE);
    check_throughput_constraints(
        &mut c,
        "provisionedThroughput",
        input.provisioned_throughput.as_ref(),
    );
    for (kind, indexes) in [
        ("localSecondaryIndexes", &input.local_secondary_indexes),
        ("globalSecondaryIndexes", &input.global_secondary_indexes),
    ] {
        for (i, index) in indexes.iter().flatten().enumerate() {
            let path = format!("{kind}.{}.member", i + 1);
            c.name(&format!("{path}.indexName"), index.index_name.as_deref(), true);
            c.not_null(&format!("{path}.keySchema"), index.key_schema.as_ref());
            c.not_null(&format!("{path}.projection"), index.projection.as_ref());
            check_key_schema_constraints(&mut c, &format!("{path}.keySchema"), index.key_schema.as_deref());
            if let Some(projection) = &index.projection {
                c.one_of(
                    &format!("{path}.projection.projectionType"),
                    projection.projection_type.as_deref(),
                    enums::PROJECTION_TYPE,
                );
            }
            check_throughput_constraints(
                &mut c,
                &format!("{path}.provisionedThroughput"),
                index.provisioned_throughput.as_ref(),
            );
        }
    }
    if let Some(stream) = &input.stream_specification {
        c.not_null(
            "streamSpecification.streamEnabled",
            stream.stream_enabled.as_ref(),
        );
        c.one_of(
            "streamSpecification.streamViewType",
            stream.stream_view_type.as_deref(),
            enums::STREAM_VIEW_TYPE,
        );
    }
    c.one_of("tableClass", input.table_class.as_deref(), enums::TABLE_CLASS);
    c.finish()?;
    if let Some(message) = input.others.refusal("CreateTable") {
        return Err(AwsError::validation(message));
    }
    let on_demand = match &input.on_demand_throughput {
        Some(request) => on_demand_applied(&wire::OnDemandThroughput::default(), request, "table")?,
        None => wire::OnDemandThroughput::default(),
    };

    // Every member below was checked not null above.
    let name = input.table_name.unwrap_or_default();
    let definitions = input.attribute_definitions.unwrap_or_default();
    let key_schema = input.key_schema.unwrap_or_default();

    if input.local_secondary_indexes.as_ref().is_some_and(Vec::is_empty) {
        return Err(invalid("List of LocalSecondaryIndexes is empty"));
    }
    if input.global_secondary_indexes.as_ref().is_some_and(Vec::is_empty) {
        return Err(invalid("List of GlobalSecondaryIndexes is empty"));
    }
    let billing_mode = billing_mode(input.billing_mode.as_deref());
    let throughput = match (billing_mode, &input.provisioned_throughput) {
        (BillingMode::PayPerRequest, Some(_)) => {
            return Err(invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is \
                 PAY_PER_REQUEST",
            ));
        }
        (BillingMode::PayPerRequest, None) => Throughput::default(),
        (BillingMode::Provisioned, None) => {
            return Err(invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ));
        }
        (BillingMode::Provisioned, Some(t)) => throughput_of(t)?,
    };

    let attributes = attribute_types(&definitions)?;
    let table_key = parse_key_schema(&key_schema, &attributes)?;

    let mut used: Vec<String> = table_key.names().map(str::to_owned).collect();
    let mut local_indexes = Vec::new();
    let mut index_names: Vec<String> = Vec::new();
    for index in input.local_secondary_indexes.iter().flatten() {
        let index_name = index.index_name.clone().unwrap_or_default();
        if table_key.range.is_none() {
            return Err(invalid(
                "Table KeySchema does not have a range key, which is required when specifying a \
                 LocalSecondaryIndex",
            ));
        }
        let schema = parse_key_schema(index.key_schema.as_deref().unwrap_or_default(), &attributes)?;
        if schema.range.is_none() {
            return Err(invalid(format!(
                "Index KeySchema does not have a range key for index: {index_name}"
            )));
        }
        if schema.hash.name != table_key.hash.name {
            return Err(invalid(format!(
                "Index KeySchema does not have the same leading hash key as table KeySchema for index: \
                 {index_name}. index hash key: {}, table hash key: {}",
                schema.hash.name, table_key.hash.name
            )));
        }
        let projection = check_projection(index.projection.as_ref())?;
        if index_names.contains(&index_name) {
            return Err(invalid(format!("Duplicate index name: {index_name}")));
        }
        index_names.push(index_name.clone());
        used.extend(schema.names().map(str::to_owned));
        if let Some(message) = index.others.refusal("CreateTable") {
            return Err(AwsError::validation(message));
        }
        local_indexes.push(Index {
            name: index_name,
            key_schema: schema,
            projection,
            throughput: Throughput::default(),
            on_demand: wire::OnDemandThroughput::default(),
            status: "ACTIVE",
        });
    }
    if local_indexes.len() > MAX_LOCAL_INDEXES {
        return Err(invalid(
            "Number of LocalSecondaryIndexes exceeds per-table limit of 5",
        ));
    }
    let mut global_indexes = Vec::new();
    for index in input.global_secondary_indexes.iter().flatten() {
        let index_name = index.index_name.clone().unwrap_or_default();
        let schema = parse_key_schema(index.key_schema.as_deref().unwrap_or_default(), &attributes)?;
        let projection = check_projection(index.projection.as_ref())?;
        if index_names.contains(&index_name) {
            return Err(invalid(format!("Duplicate index name: {index_name}")));
        }
        index_names.push(index_name.clone());
        let index_throughput = match (billing_mode, &index.provisioned_throughput) {
            (BillingMode::PayPerRequest, Some(_)) => {
                return Err(invalid(format!(
                    "ProvisionedThroughput should not be specified for index: {index_name} when BillingMode is \
                     PAY_PER_REQUEST"
                )));
            }
            (BillingMode::PayPerRequest, None) => Throughput::default(),
            (BillingMode::Provisioned, None) => {
                return Err(invalid(format!(
                    "ProvisionedThroughput must be specified for index: {index_name}"
                )));
            }
            (BillingMode::Provisioned, Some(t)) => throughput_of(t)?,
        };
        used.extend(schema.names().map(str::to_owned));
        global_indexes.push(Index {
            name: index_name,
            key_schema: schema,
            projection,
            throughput: index_throughput,
            on_demand: index_on_demand(index, &wire::OnDemandThroughput::default(), "CreateTable")?,
            status: "ACTIVE",
        });
    }
    if global_indexes.len() > MAX_GLOBAL_INDEXES {
        return Err(invalid(
            "GlobalSecondaryIndex count exceeds the per-table limit of 20",
        ));
    }
    let unused = attributes.iter().any(|(n, _)| !used.contains(n));
    if unused {
        if local_indexes.is_empty() && global_indexes.is_empty() {
            return Err(invalid(
                "Number of attributes in KeySchema does not exactly match number of attributes defined in \
                 AttributeDefinitions",
            ));
        }
        let mut used_sorted = used;
        used_sorted.sort_unstable();
        used_sorted.dedup();
        return Err(invalid(format!(
            "Some AttributeDefinitions are not used. AttributeDefinitions: [{}], keys used: [{}]",
            attributes
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            used_sorted.join(", ")
        )));
    }

    let stream = stream_setting(input.stream_specification.as_ref())?;
    let now = now_epoch_seconds();
    let meta = TableMeta {
        status: TableStatus::Active,
        attribute_definitions: attributes,
        key_schema: table_key,
        billing_mode,
        throughput,
        pay_per_request_since: (billing_mode == BillingMode::PayPerRequest).then_some(now),
        local_indexes,
        global_indexes,
        stream,
        sse: input.sse_specification,
        table_class: input.table_class.filter(|c| c != "STANDARD"),
        deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
        on_demand,
        tags: super::tags::create_table_tags(input.tags)?,
        time_to_live: None,
        stream_tags: Vec::new(),
    };
    let stream_setting = meta.stream.clone();
    let table = Arc::new(Table::new(&ctx.account, &ctx.region, name.clone(), now, meta));
    let region = db.region(&ctx.account, &ctx.region);
    // The stream is attached before the table is visible, so no write can escape it.
    let stream = stream_setting
        .as_ref()
        .map(|setting| new_stream(db, &table, setting));
    table.data().set_stream(stream.clone());
    if !region.insert(table.clone()) {
        return Err(aws_error!(ResourceInUseException, "Table already exists: {name}"));
    }
    if let Some(stream) = stream {
        region.streams.add(stream);
    }
    tracing::info!(table = %name, account = %ctx.account, region = %ctx.region, "created table");
    // NB: tables are usable at once; the response shows CREATING as AWS's does, and DescribeTable shows ACTIVE.
    Ok(json!({ "TableDescription": table.describe(Some(TableStatus::Creating)) }))
}

fn check_key_schema_constraints(c: &mut Constraints, path: &str, schema: Option<&[KeySchemaElement]>) {
    let Some(schema) = schema else { return };
    if schema.is_empty() {
        c.fail(
            Some("[]"),
            path,
            "Member must have length greater than or equal to 1",
        );
    }
    if schema.len() > 2 {
        let printed = format!(
            "[{}]",
            schema
                .iter()
                .map(|e| format!(
                    "KeySchemaElement(attributeName={}, keyType={})",
                    e.attribute_name.as_deref().unwrap_or("null"),
                    e.key_type.as_deref().unwrap_or("null")
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        c.fail(
            Some(&printed),
            path,
            "Member must have length less than or equal to 2",
        );
    }
    for (i, element) in schema.iter().enumerate() {
        let element_path = format!("{path}.{}.member", i + 1);
        c.not_null(
            &format!("{element_path}.attributeName"),
            element.attribute_name.as_ref(),
        );
        if let Some(name) = &element.attribute_name {
            c.length(&format!("{element_path}.attributeName"), name, 1, 255);
        }
        c.not_null(&format!("{element_path}.keyType"), element.key_type.as_ref());
        c.one_of(
            &format!("{element_path}.keyType"),
            element.key_type.as_deref(),
            enums::KEY_TYPE,
        );
    }
}

fn check_throughput_constraints(
    c: &mut Constraints,
    path: &str,
    throughput: Option<&wire::ProvisionedThroughput>,
) {
    let Some(t) = throughput else { return };
    c.not_null(
        &format!("{path}.writeCapacityUnits"),
        t.write_capacity_units.as_ref(),
    );
    c.not_null(
        &format!("{path}.readCapacityUnits"),
        t.read_capacity_units.as_ref(),
    );
    c.at_least(&format!("{path}.writeCapacityUnits"), t.write_capacity_units, 1);
    c.at_least(&format!("{path}.readCapacityUnits"), t.read_capacity_units, 1);
}

fn billing_mode(mode: Option<&str>) -> BillingMode {
    match mode {
        Some("PAY_PER_REQUEST") => BillingMode::PayPerRequest,
        _ => BillingMode::Provisioned,
    }
}

fn throughput_of(t: &wire::ProvisionedThroughput) -> Result<Throughput, AwsError> {
    let read = t.read_capacity_units.unwrap_or(0);
    let write = t.write_capacity_units.unwrap_or(0);
    if read > MAX_CAPACITY {
        return Err(AwsError::validation(format!(
            "Given value {read} for ReadCapacityUnits is out of bounds"
        )));
    }
    if write > MAX_CAPACITY {
        return Err(AwsError::validation(format!(
            "Given value {write} for WriteCapacityUnits is out of bounds"
        )));
    }
    Ok(Throughput {
        read,
        write,
        ..Throughput::default()
    })
}

fn attribute_types(definitions: &[AttributeDefinition]) -> Result<Vec<(String, ScalarType)>, AwsError> {
    let mut attributes: Vec<(String, ScalarType)> = Vec::with_capacity(definitions.len());
    for def in definitions {
        let name = def.attribute_name.clone().unwrap_or_default();
        let ty = def
            .attribute_type
            .as_deref()
            .and_then(ScalarType::parse)
            .unwrap_or(ScalarType::S);
        if attributes.iter().any(|(n, _)| *n == name) {
            return Err(invalid("Cannot have two attributes with the same name"));
        }
        attributes.push((name, ty));
    }
    Ok(attributes)
}

/// A key schema checked against the attribute definitions, with AWS's messages.
fn parse_key_schema(
    elements: &[KeySchemaElement],
    attributes: &[(String, ScalarType)],
) -> Result<KeySchema, AwsError> {
    if elements.len() > attributes.len() {
        return Err(AwsError::validation(
            "Invalid KeySchema: Some index key attribute have no definition",
        ));
    }
    let names: Vec<&str> = elements
        .iter()
        .map(|e| e.attribute_name.as_deref().unwrap_or(""))
        .collect();
    let missing = names.iter().any(|n| !attributes.iter().any(|(a, _)| a == n));
    if missing {
        return Err(invalid(format!(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], \
             AttributeDefinitions: [{}]",
            names.join(", "),
            attributes
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let attribute = |name: &str| -> KeyAttribute {
        let ty = attributes
            .iter()
            .find(|(a, _)| a == name)
            .map_or(ScalarType::S, |(_, t)| *t);
        KeyAttribute {
            name: name.to_owned(),
            ty,
        }
    };
    if elements.first().and_then(|e| e.key_type.as_deref()) != Some("HASH") {
        return Err(AwsError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if elements.len() == 2 {
        if names[0] == names[1] {
            return Err(AwsError::validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ));
        }
        if elements[1].key_type.as_deref() != Some("RANGE") {
            return Err(AwsError::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
    }
    Ok(KeySchema {
        hash: attribute(names[0]),
        range: names.get(1).map(|n| attribute(n)),
    })
}

fn check_projection(projection: Option<&wire::Projection>) -> Result<wire::Projection, AwsError> {
    let projection = projection.cloned().unwrap_or_default();
    match (
        projection.projection_type.as_deref(),
        &projection.non_key_attributes,
    ) {
        (None, _) => Err(invalid("Unknown ProjectionType: null")),
        (Some(kind @ ("ALL" | "KEYS_ONLY")), Some(_)) => Err(invalid(format!(
            "ProjectionType is {kind}, but NonKeyAttributes is specified"
        ))),
        (Some("INCLUDE"), None) => Err(invalid(
            "ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
        )),
        _ => Ok(projection),
    }
}

fn stream_setting(spec: Option<&wire::StreamSpecification>) -> Result<Option<StreamSetting>, AwsError> {
    match spec {
        Some(wire::StreamSpecification {
            stream_enabled: Some(true),
            stream_view_type: Some(view),
        }) => Ok(Some(StreamSetting {
            enabled: true,
            view_type: view.clone(),
            label: stream_label_now(),
        })),
        Some(wire::StreamSpecification {
            stream_enabled: Some(true),
            stream_view_type: None,
        }) => Err(invalid("StreamViewType is required when streams are enabled")),
        Some(wire::StreamSpecification {
            stream_enabled: Some(false),
            stream_view_type: Some(_),
        }) => Err(invalid(
            "Stream view type cannot be specified when streams are disabled",
        )),
        _ => Ok(None),
    }
}

fn table_or_not_found(db: &Db, ctx: &RequestContext, name: &str) -> Result<Arc<Table>, AwsError> {
    db.region(&ctx.account, &ctx.region).table(name).ok_or_else(|| {
        aws_error!(
            ResourceNotFoundException,
            "Requested resource not found: Table: {name} not found"
        )
    })
}

fn checked_table_name(name: Option<&str>) -> Result<&str, AwsError> {
    let mut c = Constraints::new();
    c.name("tableName", name, true);
    c.finish()?;
    Ok(name.unwrap_or_default())
}

/// The stream a table's stream setting calls for.
fn new_stream(db: &Db, table: &Table, setting: &StreamSetting) -> Arc<Stream> {
    let meta = table.meta();
    Arc::new(Stream::new(
        table.stream_arn(&setting.label),
        setting.label.clone(),
        table.name.clone(),
        table.region.clone(),
        ViewType::parse(&setting.view_type).unwrap_or(ViewType::NewAndOldImages),
        meta.key_schema.clone(),
        db.stream_settings,
    ))
}

/// DescribeTable.
pub fn describe_table(db: &Db, ctx: &RequestContext, input: wire::TableNameInput) -> Result<Value, AwsError> {
    let name = checked_table_name(input.table_name.as_deref())?;
    let table = table_or_not_found(db, ctx, name)?;
    Ok(json!({ "Table": table.describe(None) }))
}

/// DeleteTable.
pub fn delete_table(db: &Db, ctx: &RequestContext, input: wire::TableNameInput) -> Result<Value, AwsError> {
    let name = checked_table_name(input.table_name.as_deref())?;
    let table = table_or_not_found(db, ctx, name)?;
    if table.meta().deletion_protection {
        return Err(AwsError::validation(
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion \
             protection first.",
        ));
    }
    let description = table.describe(Some(TableStatus::Deleting));
    db.region(&ctx.account, &ctx.region).remove(name);
    {
        let mut data = table.data();
        if let Some(stream) = data.stream() {
            stream.disable();
        }
        data.set_stream(None);
    }
    tracing::info!(table = %name, "deleted table");
    Ok(json!({ "TableDescription": description }))
}

/// ListTables.
pub fn list_tables(db: &Db, ctx: &RequestContext, input: wire::ListTablesInput) -> Result<Value, AwsError> {
    let mut c = Constraints::new();
    c.name(
        "exclusiveStartTableName",
        input.exclusive_start_table_name.as_deref(),
        false,
    );
    c.at_least("limit", input.limit, 1);
    c.at_most("limit", input.limit, 100);
    c.finish()?;
    let limit = input.limit.unwrap_or(100) as usize;
    let region = db.region(&ctx.account, &ctx.region);
    let (names, more) = region.table_names(input.exclusive_start_table_name.as_deref(), limit);
    let last = if more { names.last().cloned() } else { None };
    Ok(serde_json::to_value(wire::ListTablesOutput {
        table_names: names,
        last_evaluated_table_name: last,
    })
    .unwrap_or_default())
}

/// UpdateTable: throughput, billing mode, streams, GSIs, SSE, table class, deletion protection.
pub fn update_table(db: &Db, ctx: &RequestContext, input: wire::UpdateTableInput) -> Result<Value, AwsError> {
    let mut c = Constraints::new();
    c.name("tableName", input.table_name.as_deref(), true);
    c.one_of("billingMode", input.billing_mode.as_deref(), enums::BILLING_MODE);
    check_throughput_constraints(
        &mut c,
        "provisionedThroughput",
        input.provisioned_throughput.as_ref(),
    );
    if let Some(stream) = &input.stream_specification {
        c.not_null(
            "streamSpecification.streamEnabled",
            stream.stream_enabled.as_ref(),
        );
        c.one_of(
            "streamSpecification.streamViewType",
            stream.stream_view_type.as_deref(),
            enums::STREAM_VIEW_TYPE,
        );
    }
    c.one_of("tableClass", input.table_class.as_deref(), enums::TABLE_CLASS);
    c.finish()?;
    if let Some(message) = input.others.refusal("UpdateTable") {
        return Err(AwsError::validation(message));
    }
    if input.replica_updates.is_some() {
        return Err(AwsError::validation(
            "ReplicaUpdates (global tables) are not supported by dynastream",
        ));
    }
    if input.provisioned_throughput.is_none()
        && input.billing_mode.is_none()
        && input.stream_specification.is_none()
        && input.global_secondary_index_updates.is_none()
        && input.sse_specification.is_none()
        && input.table_class.is_none()
        && input.deletion_protection_enabled.is_none()
        && input.on_demand_throughput.is_none()
    {
        return Err(AwsError::validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates \
             or SSESpecification or ReplicaUpdates is required",
        ));
    }
    let name = input.table_name.clone().unwrap_or_default();
    let table = table_or_not_found(db, ctx, &name)?;
    let meta = table.meta();
    let now = now_epoch_seconds();
    let mut next = (*meta).clone();

    // Billing mode and throughput.
    let mode = input
        .billing_mode
        .as_deref()
        .map(|m| billing_mode(Some(m)))
        .unwrap_or(meta.billing_mode);
    if mode == BillingMode::PayPerRequest && input.provisioned_throughput.is_some() {
        return Err(invalid(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        ));
    }
    if mode == BillingMode::Provisioned && meta.billing_mode == BillingMode::PayPerRequest {
        let Some(t) = &input.provisioned_throughput else {
            return Err(invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ));
        };
        next.throughput = throughput_of(t)?;
    } else if let Some(t) = &input.provisioned_throughput {
        let wanted = throughput_of(t)?;
        if input.stream_specification.is_some() {
            return Err(invalid(
                "You cannot modify stream status while updating table IOPS",
            ));
        }
        if wanted.read == meta.throughput.read && wanted.write == meta.throughput.write {
            return Err(AwsError::validation(format!(
                "The provisioned throughput for the table will not change. The requested value equals the \
                 current value. Current ReadCapacityUnits provisioned for the table: {}. Requested \
                 ReadCapacityUnits: {}. Current WriteCapacityUnits provisioned for the table: {}. Requested \
                 WriteCapacityUnits: {}. Refer to the Amazon DynamoDB Developer Guide for current limits and how \
                 to request higher limits.",
                meta.throughput.read, wanted.read, meta.throughput.write, wanted.write
            )));
        }
        if wanted.read > meta.throughput.read || wanted.write > meta.throughput.write {
            next.throughput.last_increase = Some(now);
        }
        if wanted.read < meta.throughput.read || wanted.write < meta.throughput.write {
            next.throughput.last_decrease = Some(now);
            next.throughput.decreases_today += 1;
        }
        next.throughput.read = wanted.read;
        next.throughput.write = wanted.write;
    }
    if mode == BillingMode::PayPerRequest && meta.billing_mode == BillingMode::Provisioned {
        next.pay_per_request_since = Some(now);
        next.throughput.read = 0;
        next.throughput.write = 0;
        for index in &mut next.global_indexes {
            index.throughput = Throughput::default();
        }
    }
    next.billing_mode = mode;
    if mode == BillingMode::Provisioned && meta.billing_mode == BillingMode::PayPerRequest {
        // NB: AWS keeps a BillingModeSummary once a table has switched modes.
        next.pay_per_request_since = meta.pay_per_request_since;
    }

    // Streams.
    if let Some(spec) = &input.stream_specification {
        let current = meta.stream.as_ref().filter(|s| s.enabled);
        match (spec.stream_enabled, current) {
            (Some(true), Some(_)) => {
                return Err(AwsError::validation(format!(
                    "Table already has an enabled stream: TableName: {name}"
                )));
            }
            (Some(false), None) => {
                return Err(AwsError::validation(format!(
                    "Table does not have an enabled stream: TableName: {name}"
                )));
            }
            (Some(false), Some(stream)) => {
                if spec.stream_view_type.is_some() {
                    return Err(invalid(
                        "Stream view type cannot be specified when streams are disabled",
                    ));
                }
                next.stream = Some(StreamSetting {
                    enabled: false,
                    ..stream.clone()
                });
            }
            _ => next.stream = stream_setting(Some(spec))?,
        }
    }

    // Global secondary indexes.
    if let Some(updates) = &input.global_secondary_index_updates {
        let definitions = input.attribute_definitions.clone().unwrap_or_default();
        let mut attributes = meta.attribute_definitions.clone();
        for (name, ty) in attribute_types(&definitions)? {
            if let Some(existing) = attributes.iter().find(|(n, _)| *n == name) {
                if existing.1 != ty {
                    return Err(invalid(format!(
                        "Cannot change the type of attribute {name} from {} to {}",
                        existing.1.as_str(),
                        ty.as_str()
                    )));
                }
            } else {
                attributes.push((name, ty));
            }
        }
        for update in updates {
            apply_gsi_update(&mut next, update, &attributes, &definitions, mode)?;
        }
        // Keep only the definitions some key still uses, as AWS does.
        next.attribute_definitions = attributes
            .into_iter()
            .filter(|(n, _)| {
                next.key_schema.contains(n)
                    || next
                        .local_indexes
                        .iter()
                        .chain(&next.global_indexes)
                        .any(|i| i.key_schema.contains(n))
            })
            .collect();
    }

    if let Some(sse) = &input.sse_specification {
        next.sse = Some(sse.clone());
    }
    if let Some(class) = &input.table_class {
        next.table_class = (class != "STANDARD" || meta.table_class.is_some()).then(|| class.clone());
    }
    if let Some(protection) = input.deletion_protection_enabled {
        next.deletion_protection = protection;
    }
    if let Some(request) = &input.on_demand_throughput {
        next.on_demand = on_demand_applied(&meta.on_demand, request, "table")?;
    }
    let created_indexes: Vec<String> = next
        .global_indexes
        .iter()
        .filter(|i| i.status == "CREATING")
        .map(|i| i.name.clone())
        .collect();
    {
        // NB: the item lock is held while the definition changes, so no write sees one without the other.
        let mut data = table.data();
        data.sync_indexes(&next);
        if meta.stream != next.stream {
            // A new label means a new stream; the old one stops capturing but stays readable.
            if let Some(old) = data.stream() {
                old.disable();
            }
            let stream = next
                .stream
                .as_ref()
                .filter(|s| s.enabled)
                .map(|setting| new_stream(db, &table, setting));
            if let Some(stream) = &stream {
                db.region(&ctx.account, &ctx.region).streams.add(stream.clone());
            }
            data.set_stream(stream);
        }
        table.update_meta(|m| {
            // TTL and tags belong to other operations and may have changed since `meta` was read: keep them.
            let time_to_live = m.time_to_live.take();
            let tags = std::mem::take(&mut m.tags);
            let stream_tags = std::mem::take(&mut m.stream_tags);
            *m = next;
            m.time_to_live = time_to_live;
            m.tags = tags;
            m.stream_tags = stream_tags;
        });
    }
    let description = table.describe(Some(TableStatus::Updating));
    // NB: index builds finish at once (backfill happens under the table lock), so later describes show ACTIVE.
    if !created_indexes.is_empty() {
        table.update_meta(|m| {
            for index in m
                .global_indexes
                .iter_mut()
                .filter(|i| created_indexes.contains(&i.name))
            {
                index.status = "ACTIVE";
            }
        });
    }
    tracing::info!(table = %name, "updated table");
    Ok(json!({ "TableDescription": description }))
}

fn apply_gsi_update(
    meta: &mut TableMeta,
    update: &wire::GlobalSecondaryIndexUpdate,
    attributes: &[(String, ScalarType)],
    definitions: &[AttributeDefinition],
    mode: BillingMode,
) -> Result<(), AwsError> {
    let exists = |meta: &TableMeta, name: &str| meta.global_indexes.iter().any(|i| i.name == name);
    match (&update.create, &update.update, &update.delete) {
        (Some(create), None, None) => {
            let index_name = create.index_name.clone().unwrap_or_default();
            if definitions.is_empty() {
                return Err(invalid(
                    "Global Secondary Index creation requires AttributeDefinitions to be specified",
                ));
            }
            if exists(meta, &index_name) || meta.local_indexes.iter().any(|i| i.name == index_name) {
                return Err(aws_error!(
                    ValidationException,
                    "One or more parameter values were invalid: Attempting to create an index which already \
                     exists: {index_name}"
                ));
            }
            let schema = parse_key_schema(create.key_schema.as_deref().unwrap_or_default(), attributes)?;
            let projection = check_projection(create.projection.as_ref())?;
            let throughput = match (mode, &create.provisioned_throughput) {
                (BillingMode::PayPerRequest, Some(_)) => {
                    return Err(invalid(format!(
                        "ProvisionedThroughput should not be specified for index: {index_name} when BillingMode \
                         is PAY_PER_REQUEST"
                    )));
                }
                (BillingMode::Provisioned, None) => {
                    return Err(invalid(format!(
                        "ProvisionedThroughput must be specified for index: {index_name}"
                    )));
                }
                (_, Some(t)) => throughput_of(t)?,
                (_, None) => Throughput::default(),
            };
            let on_demand = index_on_demand(create, &wire::OnDemandThroughput::default(), "UpdateTable")?;
            if meta.global_indexes.len() >= MAX_GLOBAL_INDEXES {
                return Err(aws_error!(
                    LimitExceededException,
                    "Subscriber limit exceeded: The number of global secondary indexes for this table exceeds the \
                     limit of {MAX_GLOBAL_INDEXES}"
                ));
            }
            meta.global_indexes.push(Index {
                name: index_name,
                key_schema: schema,
                projection,
                throughput,
                on_demand,
                status: "CREATING",
            });
            Ok(())
        }
        (None, Some(change), None) => {
            let index_name = change.index_name.clone().unwrap_or_default();
            let Some(index) = meta.global_indexes.iter_mut().find(|i| i.name == index_name) else {
                return Err(aws_error!(
                    ResourceNotFoundException,
                    "Requested resource not found: Index: {index_name} not found"
                ));
            };
            index.on_demand = index_on_demand(change, &index.on_demand, "UpdateTable")?;
            if let Some(t) = &change.provisioned_throughput {
                let wanted = throughput_of(t)?;
                index.throughput.read = wanted.read;
                index.throughput.write = wanted.write;
            }
            Ok(())
        }
        (None, None, Some(delete)) => {
            let index_name = delete.index_name.clone().unwrap_or_default();
            if !exists(meta, &index_name) {
                return Err(aws_error!(
                    ResourceNotFoundException,
                    "Requested resource not found: Index: {index_name} not found"
                ));
            }
            meta.global_indexes.retain(|i| i.name != index_name);
            Ok(())
        }
        _ => Err(invalid(
            "One of GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Update or \
             GlobalSecondaryIndexUpdate.Delete must be specified",
        )),
    }
}

/// DescribeLimits: AWS's default account and table quotas.
pub fn describe_limits() -> Value {
    json!({
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    })
}

/// DescribeEndpoints: the address the client reached, so endpoint-discovering clients stay on the emulator.
pub fn describe_endpoints(ctx: &RequestContext) -> Value {
    json!({ "Endpoints": [{ "Address": ctx.host, "CachePeriodInMinutes": 1440 }] })
}
