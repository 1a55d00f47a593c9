//! A table: its definition as DescribeTable shows it ([`TableMeta`]) and its items ([`TableData`]), each behind
//! its own lock. Every item write goes through [`TableData`], so later change capture (streams, indexes) has one
//! place to hook into, inside the same critical section as the write.

use std::{collections::BTreeMap, ops::Bound, sync::Arc};

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::streams::Stream;

use super::{
    index::{IndexData, IndexProjection},
    key::{ItemKey, KeySchema, ScalarType},
    value::{Item, item_size},
    wire,
};

/// The lifecycle states of a table, as AWS names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableStatus {
    /// Being created (only ever shown in CreateTable's response: tables are usable at once).
    Creating,
    /// Usable.
    Active,
    /// Being updated (only shown in UpdateTable's response).
    Updating,
    /// Being deleted (only shown in DeleteTable's response).
    Deleting,
}

impl TableStatus {
    /// The status as AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            TableStatus::Creating => "CREATING",
            TableStatus::Active => "ACTIVE",
            TableStatus::Updating => "UPDATING",
            TableStatus::Deleting => "DELETING",
        }
    }
}

/// How a table is billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BillingMode {
    /// PROVISIONED (AWS's default).
    Provisioned,
    /// PAY_PER_REQUEST (on demand).
    PayPerRequest,
}

/// Provisioned throughput and its change history.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Throughput {
    /// Read capacity units (0 on demand).
    pub read: i64,
    /// Write capacity units (0 on demand).
    pub write: i64,
    /// When capacity last went up.
    pub last_increase: Option<f64>,
    /// When capacity last went down.
    pub last_decrease: Option<f64>,
    /// Decreases since midnight UTC.
    pub decreases_today: i64,
}

impl Throughput {
    fn describe(&self) -> wire::ProvisionedThroughputDescription {
        wire::ProvisionedThroughputDescription {
            last_increase_date_time: self.last_increase,
            last_decrease_date_time: self.last_decrease,
            number_of_decreases_today: self.decreases_today,
            read_capacity_units: self.read,
            write_capacity_units: self.write,
        }
    }
}

/// A secondary index's definition.
#[derive(Clone, Debug)]
pub struct Index {
    /// Index name.
    pub name: String,
    /// The index's key schema.
    pub key_schema: KeySchema,
    /// The projection as declared.
    pub projection: wire::Projection,
    /// Throughput (GSIs only).
    pub throughput: Throughput,
    /// The most request units per second (GSIs only; kept and described, not enforced).
    pub on_demand: wire::OnDemandThroughput,
    /// IndexStatus (GSIs only): CREATING, ACTIVE, ...
    pub status: &'static str,
}

/// A table's stream setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSetting {
    /// Whether the stream is on (a disabled stream stays described until another is enabled).
    pub enabled: bool,
    /// KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES.
    pub view_type: String,
    /// The stream's label: its creation time, `YYYY-MM-DDTHH:MM:SS.mmm` UTC.
    pub label: String,
}

/// Everything about a table except its items.
#[derive(Clone, Debug)]
pub struct TableMeta {
    /// Lifecycle status.
    pub status: TableStatus,
    /// Attribute definitions, in the order given.
    pub attribute_definitions: Vec<(String, ScalarType)>,
    /// The table's key schema.
    pub key_schema: KeySchema,
    /// Billing mode.
    pub billing_mode: BillingMode,
    /// Provisioned throughput.
    pub throughput: Throughput,
    /// When the table last switched to (or was created with) on-demand billing.
    pub pay_per_request_since: Option<f64>,
    /// Local secondary indexes.
    pub local_indexes: Vec<Index>,
    /// Global secondary indexes.
    pub global_indexes: Vec<Index>,
    /// The latest stream, if a stream was ever enabled.
    pub stream: Option<StreamSetting>,
    /// SSE specification as given.
    pub sse: Option<wire::SseSpecification>,
    /// Table class, when not the default.
    pub table_class: Option<String>,
    /// Whether DeleteTable is refused.
    pub deletion_protection: bool,
    /// The most request units per second, as OnDemandThroughput sets them (kept and described, not enforced).
    pub on_demand: wire::OnDemandThroughput,
    /// Tags, in insertion order.
    pub tags: Vec<(String, String)>,
    /// The time-to-live attribute while TTL is enabled; `None` when disabled (AWS forgets the attribute then).
    pub time_to_live: Option<String>,
    /// Tags of the table's streams by stream label: AWS tags a stream ARN apart from its table.
    pub stream_tags: Vec<(String, Vec<(String, String)>)>,
}

impl TableMeta {
    /// Key schemas of every index, with the index name, for checking index key types on writes.
    pub fn index_key_schemas(&self) -> impl Iterator<Item = (&str, &KeySchema)> {
        self.local_indexes
            .iter()
            .chain(&self.global_indexes)
            .map(|i| (i.name.as_str(), &i.key_schema))
    }
}

/// Who made a change: DynamoDB Streams marks deletions by TTL as the service's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeCause {
    /// A client's request.
    Request,
    /// The time-to-live sweeper.
    TimeToLive,
}

/// A table's items, their secondary indexes and their accounting. Every write goes through [`TableData::put`]
/// and [`TableData::delete`], which keep the indexes in step within the same critical section.
#[derive(Debug, Default)]
pub struct TableData {
    items: BTreeMap<ItemKey, Item>,
    size_bytes: u64,
    indexes: Vec<IndexData>,
    /// The table's enabled stream: every change is appended to it here, under the item lock.
    stream: Option<Arc<Stream>>,
}

impl TableData {
    /// Empty data with the indexes `meta` declares.
    pub fn new(meta: &TableMeta) -> Self {
        let mut data = Self::default();
        data.sync_indexes(meta);
        data
    }

    /// The item at `key`.
    pub fn get(&self, key: &ItemKey) -> Option<&Item> {
        self.items.get(key)
    }

    /// Stores `item` at `key`, returning the item it replaced.
    pub fn put(&mut self, key: ItemKey, item: Item, cause: ChangeCause) -> Option<Item> {
        if let Some(stream) = &self.stream {
            stream.append(
                self.items.get(&key),
                Some(&item),
                cause == ChangeCause::TimeToLive,
            );
        }
        self.size_bytes += item_size(&item) as u64;
        for index in &mut self.indexes {
            let old = self.items.get(&key);
            index.update(&key, old, Some(&item));
        }
        let old = self.items.insert(key, item);
        if let Some(old) = &old {
            self.size_bytes -= item_size(old) as u64;
        }
        old
    }

    /// Removes the item at `key`, returning it.
    pub fn delete(&mut self, key: &ItemKey, cause: ChangeCause) -> Option<Item> {
        let old = self.items.remove(key)?;
        if let Some(stream) = &self.stream {
            stream.append(Some(&old), None, cause == ChangeCause::TimeToLive);
        }
        self.size_bytes -= item_size(&old) as u64;
        for index in &mut self.indexes {
            index.update(key, Some(&old), None);
        }
        Some(old)
    }

    /// Starts appending changes to `stream`, or stops (`None`).
    pub fn set_stream(&mut self, stream: Option<Arc<Stream>>) {
        self.stream = stream;
    }

    /// The stream changes are appended to.
    pub fn stream(&self) -> Option<&Arc<Stream>> {
        self.stream.as_ref()
    }

    /// Items whose keys fall in `range`, in key order or reversed.
    pub fn items_in<'a>(
        &'a self,
        range: (Bound<&'a [u8]>, Bound<&'a [u8]>),
        forward: bool,
    ) -> Box<dyn Iterator<Item = (&'a ItemKey, &'a Item)> + 'a> {
        let iter = self.items.range::<[u8], _>(range);
        if forward {
            Box::new(iter)
        } else {
            Box::new(iter.rev())
        }
    }

    /// The secondary index called `name`.
    pub fn index(&self, name: &str) -> Option<&IndexData> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// Makes the stored indexes match `meta`: new ones are built from the items (backfilled), dropped ones go.
    pub fn sync_indexes(&mut self, meta: &TableMeta) {
        let declared: Vec<&Index> = meta.local_indexes.iter().chain(&meta.global_indexes).collect();
        self.indexes
            .retain(|index| declared.iter().any(|d| d.name == index.name));
        for definition in declared {
            if self.indexes.iter().any(|i| i.name == definition.name) {
                continue;
            }
            let mut index = IndexData::new(
                definition.name.clone(),
                definition.key_schema.clone(),
                meta.key_schema.clone(),
                IndexProjection::from_wire(&definition.projection),
            );
            for (key, item) in &self.items {
                index.update(key, None, Some(item));
            }
            self.indexes.push(index);
        }
    }

    /// Number of items.
    pub fn item_count(&self) -> u64 {
        self.items.len() as u64
    }

    /// Total size of the items, as AWS counts it.
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }
}

/// A DynamoDB table.
#[derive(Debug)]
pub struct Table {
    /// Table name.
    pub name: String,
    /// The account that owns it.
    pub account: String,
    /// Its region.
    pub region: String,
    /// `arn:aws:dynamodb:<region>:<account>:table/<name>`.
    pub arn: String,
    /// TableId, a UUID.
    pub id: String,
    /// CreationDateTime, epoch seconds.
    pub created: f64,
    meta: RwLock<Arc<TableMeta>>,
    data: RwLock<TableData>,
}

impl Table {
    /// A new, empty table.
    pub fn new(account: &str, region: &str, name: String, created: f64, meta: TableMeta) -> Self {
        Self {
            arn: format!("arn:aws:dynamodb:{region}:{account}:table/{name}"),
            name,
            account: account.to_owned(),
            region: region.to_owned(),
            id: uuid::Uuid::new_v4().to_string(),
            created,
            data: RwLock::new(TableData::new(&meta)),
            meta: RwLock::new(Arc::new(meta)),
        }
    }

    /// A snapshot of the table's definition.
    pub fn meta(&self) -> Arc<TableMeta> {
        self.meta.read().clone()
    }

    /// Changes the table's definition.
    pub fn update_meta<R>(&self, f: impl FnOnce(&mut TableMeta) -> R) -> R {
        let mut guard = self.meta.write();
        f(Arc::make_mut(&mut guard))
    }

    /// Exclusive access to the items: one writer at a time, so conditional writes are atomic per item.
    pub fn data(&self) -> RwLockWriteGuard<'_, TableData> {
        self.data.write()
    }

    /// Shared access to the items, for reads: they run in parallel with each other, never with a write.
    pub fn read_data(&self) -> RwLockReadGuard<'_, TableData> {
        self.data.read()
    }

    /// The stream ARN for a stream label.
    pub fn stream_arn(&self, label: &str) -> String {
        format!("{}/stream/{label}", self.arn)
    }

    /// The table as DescribeTable shows it, with `status` in place of the stored status when given (the
    /// responses of CreateTable, UpdateTable and DeleteTable show the transitional state).
    pub fn describe(&self, status: Option<TableStatus>) -> wire::TableDescription {
        let meta = self.meta();
        let (item_count, size_bytes, index_stats) = {
            let data = self.read_data();
            let stats: Vec<(String, u64, u64)> = data
                .indexes
                .iter()
                .map(|i| (i.name.clone(), i.item_count(), i.size_bytes()))
                .collect();
            (data.item_count(), data.size_bytes(), stats)
        };
        let stats_of = |name: &str| {
            index_stats
                .iter()
                .find(|(n, _, _)| n == name)
                .map_or((0, 0), |(_, count, size)| (*count, *size))
        };
        let key_schema = describe_key_schema(&meta.key_schema);
        let index_arn = |name: &str| format!("{}/index/{name}", self.arn);
        let local = (!meta.local_indexes.is_empty()).then(|| {
            meta.local_indexes
                .iter()
                .map(|index| wire::LocalSecondaryIndexDescription {
                    index_name: index.name.clone(),
                    key_schema: describe_key_schema(&index.key_schema),
                    projection: index.projection.clone(),
                    index_size_bytes: stats_of(&index.name).1,
                    item_count: stats_of(&index.name).0,
                    index_arn: index_arn(&index.name),
                })
                .collect()
        });
        let global = (!meta.global_indexes.is_empty()).then(|| {
            meta.global_indexes
                .iter()
                .map(|index| wire::GlobalSecondaryIndexDescription {
                    index_name: index.name.clone(),
                    key_schema: describe_key_schema(&index.key_schema),
                    projection: index.projection.clone(),
                    index_status: index.status.to_owned(),
                    backfilling: (index.status == "CREATING").then_some(false),
                    provisioned_throughput: index.throughput.describe(),
                    on_demand_throughput: described(&index.on_demand),
                    index_size_bytes: stats_of(&index.name).1,
                    item_count: stats_of(&index.name).0,
                    index_arn: index_arn(&index.name),
                })
                .collect()
        });
        let stream = meta.stream.as_ref();
        wire::TableDescription {
            attribute_definitions: meta
                .attribute_definitions
                .iter()
                .map(|(name, ty)| wire::AttributeDefinition {
                    attribute_name: Some(name.clone()),
                    attribute_type: Some(ty.as_str().to_owned()),
                })
                .collect(),
            table_name: self.name.clone(),
            key_schema,
            table_status: status.unwrap_or(meta.status).as_str().to_owned(),
            creation_date_time: self.created,
            provisioned_throughput: meta.throughput.describe(),
            table_size_bytes: size_bytes,
            item_count,
            table_arn: self.arn.clone(),
            table_id: self.id.clone(),
            billing_mode_summary: meta.pay_per_request_since.map(|since| wire::BillingModeSummary {
                billing_mode: match meta.billing_mode {
                    BillingMode::PayPerRequest => "PAY_PER_REQUEST",
                    BillingMode::Provisioned => "PROVISIONED",
                }
                .to_owned(),
                last_update_to_pay_per_request_date_time: since,
            }),
            local_secondary_indexes: local,
            global_secondary_indexes: global,
            stream_specification: stream.map(|s| wire::StreamSpecification {
                stream_enabled: Some(s.enabled),
                stream_view_type: s.enabled.then(|| s.view_type.clone()),
            }),
            latest_stream_label: stream.map(|s| s.label.clone()),
            latest_stream_arn: stream.map(|s| self.stream_arn(&s.label)),
            sse_description: meta.sse.as_ref().filter(|s| s.enabled == Some(true)).map(|s| {
                wire::SseDescription {
                    status: "ENABLED".into(),
                    sse_type: s.sse_type.clone().unwrap_or_else(|| "KMS".into()),
                    // NB: the AWS-managed key's id is stable per table, so describes agree with each other.
                    kms_master_key_arn: s.kms_master_key_id.clone().unwrap_or_else(|| {
                        format!("arn:aws:kms:{}:{}:key/{}", self.region, self.account, self.id)
                    }),
                }
            }),
            table_class_summary: meta.table_class.as_ref().map(|class| wire::TableClassSummary {
                table_class: class.clone(),
            }),
            deletion_protection_enabled: meta.deletion_protection,
            on_demand_throughput: described(&meta.on_demand),
        }
    }
}

/// A key schema on the wire.
pub fn describe_key_schema(schema: &KeySchema) -> Vec<wire::KeySchemaElement> {
    let mut elements = vec![wire::KeySchemaElement {
        attribute_name: Some(schema.hash.name.clone()),
        key_type: Some("HASH".into()),
    }];
    if let Some(range) = &schema.range {
        elements.push(wire::KeySchemaElement {
            attribute_name: Some(range.name.clone()),
            key_type: Some("RANGE".into()),
        });
    }
    elements
}

/// Now, as epoch seconds with millisecond precision (AWS's date-time number format).
pub fn now_epoch_seconds() -> f64 {
    let millis = jiff::Timestamp::now().as_millisecond();
    millis as f64 / 1000.0
}

/// A stream label for the current time: `YYYY-MM-DDTHH:MM:SS.mmm`, UTC.
pub fn stream_label_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3f")
        .to_string()
}

/// An OnDemandThroughput as DescribeTable shows it: only when a maximum is set.
fn described(on_demand: &wire::OnDemandThroughput) -> Option<wire::OnDemandThroughput> {
    (*on_demand != wire::OnDemandThroughput::default()).then(|| on_demand.clone())
}
