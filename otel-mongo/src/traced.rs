//! The opt-in operation span API: target handles ([`TracedCollection`], [`TracedDatabase`],
//! [`TracedClient`]) made once per collection, database or client, and [`TraceOperation::traced`], the one call added
//! at the end of a driver call's chain.

use std::future::IntoFuture;
use std::ops::Deref;
use std::sync::Arc;

use mongodb::action;
use mongodb::{Client, Collection, Database};

use crate::command::name_shape_ok;
use crate::handler::OtelCommandHandler;
use crate::intern;
use crate::operation::{Operation, OperationInfo};

mod sealed {
    /// Gives the target's names and handler (unnameable outside the crate).
    pub trait Sealed {
        fn target(&self) -> &super::Target;
    }
}

/// A handle that names what an operation works on and which handler records it:
/// [`TracedCollection`], [`TracedDatabase`] and [`TracedClient`]. Sealed.
pub trait OperationTarget: sealed::Sealed {}

/// The recorded names of a target (each passed the name shape check) and its handler.
#[derive(Clone)]
pub struct Target {
    handler: OtelCommandHandler,
    database: Option<Arc<str>>,
    collection: Option<Arc<str>>,
}

impl Target {
    fn new(handler: &OtelCommandHandler, database: &str, collection: Option<&str>) -> Self {
        Target {
            handler: handler.clone(),
            database: name_shape_ok(database).then(|| intern::database(database)),
            collection: collection
                .filter(|c| name_shape_ok(c))
                .map(intern::collection),
        }
    }

    pub(crate) fn info(&self, name: &'static str) -> OperationInfo {
        OperationInfo {
            name,
            database: self.database.clone(),
            collection: self.collection.clone(),
        }
    }

    pub(crate) fn handler(&self) -> &OtelCommandHandler {
        &self.handler
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("database", &self.database)
            .field("collection", &self.collection)
            .finish_non_exhaustive()
    }
}

/// A [`Collection`] whose driver calls can record an operation span: it dereferences to the
/// collection, so every driver method is called as usual, and `.traced(&coll)` at the end of
/// a call's chain wraps it ([`TraceOperation::traced`]). Made with
/// [`TracedCollection::new`] or [`TracedDatabase::collection`]; cheap to clone.
///
/// ```no_run
/// # async fn run(client: mongodb::Client, handler: otel_mongo::OtelCommandHandler) -> mongodb::error::Result<()> {
/// use mongodb::bson::{Document, doc};
/// use otel_mongo::prelude::*;
///
/// let orders = TracedCollection::new(client.database("shop").collection::<Document>("orders"), &handler);
/// // `find shop.orders` (the operation) with its `find orders` command span(s) as children:
/// let first = orders.find_one(doc! { "status": "paid" }).sort(doc! { "total": -1 }).traced(&orders).await?;
/// # let _ = first; Ok(()) }
/// ```
#[derive(Clone)]
pub struct TracedCollection<T: Send + Sync> {
    inner: Collection<T>,
    target: Target,
}

impl<T: Send + Sync> TracedCollection<T> {
    /// `coll`, recorded by `handler` (the handler installed on its client's options).
    pub fn new(coll: Collection<T>, handler: &OtelCommandHandler) -> Self {
        let target = Target::new(handler, &coll.namespace().db, Some(coll.name()));
        TracedCollection {
            inner: coll,
            target,
        }
    }

    /// The driver's collection.
    pub fn inner(&self) -> &Collection<T> {
        &self.inner
    }

    /// Gives the driver's collection back.
    pub fn into_inner(self) -> Collection<T> {
        self.inner
    }
}

impl<T: Send + Sync> Deref for TracedCollection<T> {
    type Target = Collection<T>;

    fn deref(&self) -> &Collection<T> {
        &self.inner
    }
}

impl<T: Send + Sync> std::fmt::Debug for TracedCollection<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedCollection")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl<T: Send + Sync> sealed::Sealed for TracedCollection<T> {
    fn target(&self) -> &Target {
        &self.target
    }
}
impl<T: Send + Sync> OperationTarget for TracedCollection<T> {}

/// A [`Database`] whose driver calls can record an operation span (`runCommand shop`,
/// `listCollections shop`); dereferences to the database. Made with
/// [`TracedDatabase::new`] or [`TracedClient::database`]; [`collection`](Self::collection) gives its traced
/// collections, one line per database.
#[derive(Clone)]
pub struct TracedDatabase {
    inner: Database,
    target: Target,
}

impl TracedDatabase {
    /// `db`, recorded by `handler` (the handler installed on its client's options).
    pub fn new(db: Database, handler: &OtelCommandHandler) -> Self {
        let target = Target::new(handler, db.name(), None);
        TracedDatabase { inner: db, target }
    }

    /// The traced collection `name` of this database.
    pub fn collection<T: Send + Sync>(&self, name: &str) -> TracedCollection<T> {
        TracedCollection::new(self.inner.collection(name), &self.target.handler)
    }

    /// The driver's database.
    pub fn inner(&self) -> &Database {
        &self.inner
    }

    /// Gives the driver's database back.
    pub fn into_inner(self) -> Database {
        self.inner
    }
}

impl Deref for TracedDatabase {
    type Target = Database;

    fn deref(&self) -> &Database {
        &self.inner
    }
}

impl std::fmt::Debug for TracedDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedDatabase")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl sealed::Sealed for TracedDatabase {
    fn target(&self) -> &Target {
        &self.target
    }
}
impl OperationTarget for TracedDatabase {}

/// A [`Client`] whose client-level calls can record an operation span (`listDatabases admin`,
/// `bulkWrite admin`: the specification's namespace for them); dereferences to the client.
/// Made with [`TracedClient::new`]; [`database`](Self::database) gives its traced
/// databases.
#[derive(Clone)]
pub struct TracedClient {
    inner: Client,
    target: Target,
}

impl TracedClient {
    /// `client`, recorded by `handler` (the handler installed on its options).
    pub fn new(client: Client, handler: &OtelCommandHandler) -> Self {
        let target = Target::new(handler, "admin", None);
        TracedClient {
            inner: client,
            target,
        }
    }

    /// The traced database `name` of this client.
    pub fn database(&self, name: &str) -> TracedDatabase {
        TracedDatabase::new(self.inner.database(name), &self.target.handler)
    }

    /// The driver's client.
    pub fn inner(&self) -> &Client {
        &self.inner
    }

    /// Gives the driver's client back.
    pub fn into_inner(self) -> Client {
        self.inner
    }
}

impl Deref for TracedClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.inner
    }
}

impl std::fmt::Debug for TracedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedClient").finish_non_exhaustive()
    }
}

impl sealed::Sealed for TracedClient {
    fn target(&self) -> &Target {
        &self.target
    }
}
impl OperationTarget for TracedClient {}

/// `.traced(&target)` on the driver's action builders (`find`, `insert_one`, `aggregate`,
/// ...): the call becomes one operation span named as the MongoDB drivers' specification
/// names it (`find shop.orders`, `findAndModify shop.orders`, `runCommand shop`), the parent
/// of the command spans of every attempt. Put it last, after the driver's own chained
/// options (`.sort(..)`, `.session(..)`), and `.await` the result as before.
///
/// Implemented for the action types of `mongodb::action` with the operation name the driver
/// uses (`insert_one` / `insert_many`: `insert`; `find_one_and_*`: `findAndModify`;
/// `count_documents`: `aggregate`; `estimated_document_count`: `count`; `create_collection`:
/// `create`; `run_command`: `runCommand`); sealed.
pub trait TraceOperation: IntoFuture + Sized + sealed_action::SealedAction {
    /// The operation's name (`db.operation.name` of the operation span).
    const OPERATION: &'static str;

    /// This call, recorded as an operation on `target` by the target's handler (see
    /// [`Operation`]). A handler built disabled makes it a pass-through.
    fn traced(self, target: &impl OperationTarget) -> Operation<Self::IntoFuture> {
        let target = sealed::Sealed::target(target);
        Operation::new(
            self.into_future(),
            target.handler().clone(),
            target.info(Self::OPERATION),
        )
    }
}

mod sealed_action {
    pub trait SealedAction {}
}

/// `impl TraceOperation for` each action type, with its operation name.
macro_rules! operations {
    ($( $name:literal => $ty:ty $(, [$($g:tt)*])? ;)*) => {
        $(
            impl<$($($g)*)?> sealed_action::SealedAction for $ty where $ty: IntoFuture {}
            impl<$($($g)*)?> TraceOperation for $ty where $ty: IntoFuture {
                const OPERATION: &'static str = $name;
            }
        )*
    };
}

operations! {
    "find" => action::Find<'a, T, S>, ['a, T: Send + Sync, S];
    "find" => action::FindOne<'a, T>, ['a, T: Send + Sync];
    "insert" => action::InsertOne<'a>, ['a];
    "insert" => action::InsertMany<'a>, ['a];
    "update" => action::Update<'a>, ['a];
    "update" => action::ReplaceOne<'a>, ['a];
    "delete" => action::Delete<'a>, ['a];
    "findAndModify" => action::FindOneAndDelete<'a, T>, ['a, T: Send + Sync];
    "findAndModify" => action::FindOneAndUpdate<'a, T>, ['a, T: Send + Sync];
    "findAndModify" => action::FindOneAndReplace<'a, T>, ['a, T: Send + Sync];
    "aggregate" => action::Aggregate<'a, S, T>, ['a, S, T];
    "aggregate" => action::CountDocuments<'a>, ['a];
    "count" => action::EstimatedDocumentCount<'a>, ['a];
    "distinct" => action::Distinct<'a>, ['a];
    "create" => action::CreateCollection<'a>, ['a];
    "drop" => action::DropCollection<'a>, ['a];
    "dropDatabase" => action::DropDatabase<'a>, ['a];
    "createIndexes" => action::CreateIndex<'a, M>, ['a, M];
    "dropIndexes" => action::DropIndex<'a>, ['a];
    "listIndexes" => action::ListIndexes<'a, M, S>, ['a, M, S];
    "listCollections" => action::ListCollections<'a, M, S>, ['a, M, S];
    "listDatabases" => action::ListDatabases<'a, M>, ['a, M];
    "bulkWrite" => action::BulkWrite<'a, R>, ['a, R];
    "runCommand" => action::RunCommand<'a>, ['a];
    "runCommand" => action::RunCursorCommand<'a, S>, ['a, S];
    "aggregate" => action::Watch<'a, T, S>, ['a, T, S];
    "createSearchIndexes" => action::CreateSearchIndex<'a, M>, ['a, M];
    "updateSearchIndex" => action::UpdateSearchIndex<'a>, ['a];
    "dropSearchIndex" => action::DropSearchIndex<'a>, ['a];
    "aggregate" => action::ListSearchIndexes<'a>, ['a];
}
