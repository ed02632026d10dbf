//! The opt-in operation span API: [`Traced`] driver handles ([`TracedCollection`],
//! [`TracedDatabase`], [`TracedClient`]) made once per collection, database or client, and
//! [`TraceOperation::traced`], the one call added at the end of a driver call's chain.

use std::future::IntoFuture;
use std::ops::Deref;
use std::sync::Arc;

use mongodb::action;
use mongodb::{Client, Collection, Database};

use crate::command::name_shape_ok;
use crate::handler::OtelCommandHandler;
use crate::intern;
use crate::operation::{Operation, OperationInfo};

/// The recorded names of a target (each passed the name shape check) and its handler.
#[derive(Clone)]
struct Target {
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

    fn info(&self, name: &'static str) -> OperationInfo {
        OperationInfo {
            name,
            database: self.database.clone(),
            collection: self.collection.clone(),
        }
    }
}

/// A driver handle (a [`Collection`], [`Database`] or [`Client`]) whose calls can record an
/// operation span: it dereferences to the handle, so every driver method is called as usual,
/// and `.traced(&handle)` at the end of a call's chain wraps the call
/// ([`TraceOperation::traced`]). It holds the handler and the names the span is named by,
/// checked once (a value-shaped name is left out). Cheap to clone. Use it through its
/// aliases [`TracedCollection`], [`TracedDatabase`] and [`TracedClient`].
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
pub struct Traced<H> {
    inner: H,
    target: Target,
}

/// A [`Collection`] whose calls can record operation spans (`find shop.orders`).
pub type TracedCollection<T> = Traced<Collection<T>>;

/// A [`Database`] whose calls can record operation spans (`runCommand shop`,
/// `listCollections shop`).
pub type TracedDatabase = Traced<Database>;

/// A [`Client`] whose client-level calls can record operation spans (`listDatabases admin`,
/// `bulkWrite admin`: the specification's namespace for them).
pub type TracedClient = Traced<Client>;

impl<T: Send + Sync> Traced<Collection<T>> {
    /// `coll`, recorded by `handler` (the handler installed on its client's options).
    pub fn new(coll: Collection<T>, handler: &OtelCommandHandler) -> Self {
        let target = Target::new(handler, &coll.namespace().db, Some(coll.name()));
        Traced {
            inner: coll,
            target,
        }
    }
}

impl Traced<Database> {
    /// `db`, recorded by `handler` (the handler installed on its client's options).
    pub fn new(db: Database, handler: &OtelCommandHandler) -> Self {
        let target = Target::new(handler, db.name(), None);
        Traced { inner: db, target }
    }

    /// The traced collection `name` of this database.
    pub fn collection<T: Send + Sync>(&self, name: &str) -> TracedCollection<T> {
        Traced::<Collection<T>>::new(self.inner.collection(name), &self.target.handler)
    }
}

impl Traced<Client> {
    /// `client`, recorded by `handler` (the handler installed on its options).
    pub fn new(client: Client, handler: &OtelCommandHandler) -> Self {
        let target = Target::new(handler, "admin", None);
        Traced {
            inner: client,
            target,
        }
    }

    /// The traced database `name` of this client.
    pub fn database(&self, name: &str) -> TracedDatabase {
        Traced::<Database>::new(self.inner.database(name), &self.target.handler)
    }
}

impl<H> Traced<H> {
    /// The driver's handle.
    pub fn inner(&self) -> &H {
        &self.inner
    }

    /// Gives the driver's handle back.
    pub fn into_inner(self) -> H {
        self.inner
    }
}

impl<H> Deref for Traced<H> {
    type Target = H;

    fn deref(&self) -> &H {
        &self.inner
    }
}

impl<H> std::fmt::Debug for Traced<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Traced")
            .field("database", &self.target.database)
            .field("collection", &self.target.collection)
            .finish_non_exhaustive()
    }
}

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

    /// This call, recorded as an operation on `target` (the traced handle it was made from)
    /// by the target's handler (see
    /// [`Operation`]). A handler built disabled makes it a pass-through.
    fn traced<H>(self, target: &Traced<H>) -> Operation<Self::IntoFuture> {
        let target = &target.target;
        Operation::new(
            self.into_future(),
            target.handler.clone(),
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
