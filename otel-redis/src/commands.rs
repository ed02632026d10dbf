//! The command table: for each known command, where its keys are, so the sanitizer keeps keys
//! and replaces every other argument by `?`. Lookups compare names ASCII-case-insensitively
//! without allocating.

/// Where the keys of a command are. Positions count the arguments after the command name
/// word(s), starting at 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keys {
    /// No key: every argument is a value.
    None,
    /// Keys at `first`, `first + step`, ... up to `last` (negative: counted from the end,
    /// `-1` is the last argument).
    Range { first: u8, last: i8, step: u8 },
    /// A `numkeys` argument at position `at`, followed by that many keys (`EVAL script
    /// numkeys key.. arg..`); with `dest` the first argument is a key too (`ZUNIONSTORE`).
    Counted { at: u8, dest: bool },
    /// `XREAD .. STREAMS key.. id..`: the first half of the arguments after `STREAMS`.
    Streams,
    /// `MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw]
    /// [KEYS key..]`: secret when it carries `AUTH`/`AUTH2`.
    Migrate,
    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`: secret when it carries `AUTH`.
    Hello,
    /// Arguments are never recorded, whatever the query text mode (`AUTH`, `CONFIG SET`,
    /// `ACL SETUSER`, ...).
    Secret,
    /// The first argument names a subcommand (`CONFIG GET`, `XINFO STREAM`).
    Container(&'static [Sub]),
}

/// A known command.
#[derive(Debug)]
pub(crate) struct Spec {
    /// Upper-case name.
    pub(crate) name: &'static str,
    pub(crate) keys: Keys,
}

/// A known subcommand of a container command.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Sub {
    /// Both words, upper-case: `CONFIG GET`.
    pub(crate) name: &'static str,
    pub(crate) keys: Keys,
}

impl Sub {
    /// The subcommand word alone (`GET` of `CONFIG GET`).
    pub(crate) fn word(&self) -> &'static str {
        self.name
            .split_once(' ')
            .map_or(self.name, |(_, word)| word)
    }
}

/// The spec of the command named `name` (any case): one hash of the name, upper-cased on the
/// fly, then (nearly always) one case-insensitive comparison.
pub(crate) fn lookup(name: &[u8]) -> Option<&'static Spec> {
    if name.len() > MAX_NAME_LEN {
        return None;
    }
    let mut slot = slot_of(name);
    // Ends: fewer than half the slots are used, and an empty slot indexes past the table.
    loop {
        let spec = COMMANDS.get(usize::from(*INDEX.get(slot)?))?;
        if spec.name.as_bytes().eq_ignore_ascii_case(name) {
            return Some(spec);
        }
        slot = (slot + 1) % INDEX_SLOTS;
    }
}

/// Length of the longest command name in [`COMMANDS`].
const MAX_NAME_LEN: usize = max_name_len();

/// Slots of [`INDEX`], a power of two over twice the number of commands.
const INDEX_SLOTS: usize = 1024;

/// An open-addressing hash index of [`COMMANDS`] (linear probing), built at compile time:
/// each slot holds a position in the table, or `u16::MAX` when empty.
static INDEX: [u16; INDEX_SLOTS] = build_index();

/// The first slot of `name` (any case): FNV-1a over its upper-cased bytes, then a
/// multiplicative mix whose top bits pick the slot.
const fn slot_of(name: &[u8]) -> usize {
    let mut hash: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < name.len() {
        hash ^= name[i].to_ascii_uppercase() as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        i += 1;
    }
    (hash.wrapping_mul(0x9e37_79b1) >> (32 - INDEX_SLOTS.trailing_zeros())) as usize
}

const fn max_name_len() -> usize {
    let mut max = 0;
    let mut i = 0;
    while i < COMMANDS.len() {
        if COMMANDS[i].name.len() > max {
            max = COMMANDS[i].name.len();
        }
        i += 1;
    }
    max
}

const fn build_index() -> [u16; INDEX_SLOTS] {
    assert!(INDEX_SLOTS.is_power_of_two() && COMMANDS.len() * 2 <= INDEX_SLOTS);
    let mut index = [u16::MAX; INDEX_SLOTS];
    let mut i = 0;
    while i < COMMANDS.len() {
        let mut slot = slot_of(COMMANDS[i].name.as_bytes());
        while index[slot] != u16::MAX {
            slot = (slot + 1) % INDEX_SLOTS;
        }
        index[slot] = i as u16;
        i += 1;
    }
    index
}

/// The known subcommand `word` (any case) of a container.
pub(crate) fn lookup_sub(subs: &'static [Sub], word: &[u8]) -> Option<&'static Sub> {
    subs.iter()
        .find(|sub| sub.word().as_bytes().eq_ignore_ascii_case(word))
}

const SUBS_ACL: &[Sub] = &[
    Sub {
        name: "ACL CAT",
        keys: Keys::None,
    },
    Sub {
        name: "ACL DELUSER",
        keys: Keys::None,
    },
    Sub {
        name: "ACL DRYRUN",
        keys: Keys::None,
    },
    Sub {
        name: "ACL GENPASS",
        keys: Keys::None,
    },
    Sub {
        name: "ACL GETUSER",
        keys: Keys::None,
    },
    Sub {
        name: "ACL HELP",
        keys: Keys::None,
    },
    Sub {
        name: "ACL LIST",
        keys: Keys::None,
    },
    Sub {
        name: "ACL LOAD",
        keys: Keys::None,
    },
    Sub {
        name: "ACL LOG",
        keys: Keys::None,
    },
    Sub {
        name: "ACL SAVE",
        keys: Keys::None,
    },
    Sub {
        name: "ACL SETUSER",
        keys: Keys::Secret,
    },
    Sub {
        name: "ACL USERS",
        keys: Keys::None,
    },
    Sub {
        name: "ACL WHOAMI",
        keys: Keys::None,
    },
];
const SUBS_CLIENT: &[Sub] = &[
    Sub {
        name: "CLIENT CACHING",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT GETNAME",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT GETREDIR",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT HELP",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT ID",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT INFO",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT KILL",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT LIST",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT NO-EVICT",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT NO-TOUCH",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT PAUSE",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT REPLY",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT SETINFO",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT SETNAME",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT TRACKING",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT TRACKINGINFO",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT UNBLOCK",
        keys: Keys::None,
    },
    Sub {
        name: "CLIENT UNPAUSE",
        keys: Keys::None,
    },
];
const SUBS_CLUSTER: &[Sub] = &[
    Sub {
        name: "CLUSTER COUNTKEYSINSLOT",
        keys: Keys::None,
    },
    Sub {
        name: "CLUSTER GETKEYSINSLOT",
        keys: Keys::None,
    },
    Sub {
        name: "CLUSTER HELP",
        keys: Keys::None,
    },
    Sub {
        name: "CLUSTER INFO",
        keys: Keys::None,
    },
    Sub {
        name: "CLUSTER KEYSLOT",
        keys: Keys::None,
    },
    Sub {
        name: "CLUSTER MYID",
        keys: Keys::None,
    },
    Sub {
        name: "CLUSTER NODES",
        keys: Keys::None,
    },
    Sub {
        name: "CLUSTER SHARDS",
        keys: Keys::None,
    },
    Sub {
        name: "CLUSTER SLOTS",
        keys: Keys::None,
    },
];
const SUBS_COMMAND: &[Sub] = &[
    Sub {
        name: "COMMAND COUNT",
        keys: Keys::None,
    },
    Sub {
        name: "COMMAND DOCS",
        keys: Keys::None,
    },
    Sub {
        name: "COMMAND GETKEYS",
        keys: Keys::None,
    },
    Sub {
        name: "COMMAND HELP",
        keys: Keys::None,
    },
    Sub {
        name: "COMMAND INFO",
        keys: Keys::None,
    },
    Sub {
        name: "COMMAND LIST",
        keys: Keys::None,
    },
];
const SUBS_CONFIG: &[Sub] = &[
    Sub {
        name: "CONFIG GET",
        keys: Keys::None,
    },
    Sub {
        name: "CONFIG HELP",
        keys: Keys::None,
    },
    Sub {
        name: "CONFIG RESETSTAT",
        keys: Keys::None,
    },
    Sub {
        name: "CONFIG REWRITE",
        keys: Keys::None,
    },
    Sub {
        name: "CONFIG SET",
        keys: Keys::Secret,
    },
];
const SUBS_DEBUG: &[Sub] = &[
    Sub {
        name: "DEBUG JMAP",
        keys: Keys::None,
    },
    Sub {
        name: "DEBUG OBJECT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Sub {
        name: "DEBUG RELOAD",
        keys: Keys::None,
    },
    Sub {
        name: "DEBUG SLEEP",
        keys: Keys::None,
    },
];
const SUBS_FUNCTION: &[Sub] = &[
    Sub {
        name: "FUNCTION DELETE",
        keys: Keys::None,
    },
    Sub {
        name: "FUNCTION DUMP",
        keys: Keys::None,
    },
    Sub {
        name: "FUNCTION FLUSH",
        keys: Keys::None,
    },
    Sub {
        name: "FUNCTION HELP",
        keys: Keys::None,
    },
    Sub {
        name: "FUNCTION KILL",
        keys: Keys::None,
    },
    Sub {
        name: "FUNCTION LIST",
        keys: Keys::None,
    },
    Sub {
        name: "FUNCTION LOAD",
        keys: Keys::None,
    },
    Sub {
        name: "FUNCTION RESTORE",
        keys: Keys::None,
    },
    Sub {
        name: "FUNCTION STATS",
        keys: Keys::None,
    },
];
const SUBS_LATENCY: &[Sub] = &[
    Sub {
        name: "LATENCY DOCTOR",
        keys: Keys::None,
    },
    Sub {
        name: "LATENCY GRAPH",
        keys: Keys::None,
    },
    Sub {
        name: "LATENCY HELP",
        keys: Keys::None,
    },
    Sub {
        name: "LATENCY HISTOGRAM",
        keys: Keys::None,
    },
    Sub {
        name: "LATENCY HISTORY",
        keys: Keys::None,
    },
    Sub {
        name: "LATENCY LATEST",
        keys: Keys::None,
    },
    Sub {
        name: "LATENCY RESET",
        keys: Keys::None,
    },
];
const SUBS_MEMORY: &[Sub] = &[
    Sub {
        name: "MEMORY DOCTOR",
        keys: Keys::None,
    },
    Sub {
        name: "MEMORY HELP",
        keys: Keys::None,
    },
    Sub {
        name: "MEMORY MALLOC-STATS",
        keys: Keys::None,
    },
    Sub {
        name: "MEMORY PURGE",
        keys: Keys::None,
    },
    Sub {
        name: "MEMORY STATS",
        keys: Keys::None,
    },
    Sub {
        name: "MEMORY USAGE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
];
const SUBS_MODULE: &[Sub] = &[
    Sub {
        name: "MODULE HELP",
        keys: Keys::None,
    },
    Sub {
        name: "MODULE LIST",
        keys: Keys::None,
    },
    Sub {
        name: "MODULE LOAD",
        keys: Keys::None,
    },
    Sub {
        name: "MODULE LOADEX",
        keys: Keys::None,
    },
    Sub {
        name: "MODULE UNLOAD",
        keys: Keys::None,
    },
];
const SUBS_OBJECT: &[Sub] = &[
    Sub {
        name: "OBJECT ENCODING",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Sub {
        name: "OBJECT FREQ",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Sub {
        name: "OBJECT HELP",
        keys: Keys::None,
    },
    Sub {
        name: "OBJECT IDLETIME",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Sub {
        name: "OBJECT REFCOUNT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
];
const SUBS_PUBSUB: &[Sub] = &[
    Sub {
        name: "PUBSUB CHANNELS",
        keys: Keys::None,
    },
    Sub {
        name: "PUBSUB HELP",
        keys: Keys::None,
    },
    Sub {
        name: "PUBSUB NUMPAT",
        keys: Keys::None,
    },
    Sub {
        name: "PUBSUB NUMSUB",
        keys: Keys::None,
    },
    Sub {
        name: "PUBSUB SHARDCHANNELS",
        keys: Keys::None,
    },
    Sub {
        name: "PUBSUB SHARDNUMSUB",
        keys: Keys::None,
    },
];
const SUBS_SCRIPT: &[Sub] = &[
    Sub {
        name: "SCRIPT EXISTS",
        keys: Keys::None,
    },
    Sub {
        name: "SCRIPT FLUSH",
        keys: Keys::None,
    },
    Sub {
        name: "SCRIPT HELP",
        keys: Keys::None,
    },
    Sub {
        name: "SCRIPT KILL",
        keys: Keys::None,
    },
    Sub {
        name: "SCRIPT LOAD",
        keys: Keys::None,
    },
];
const SUBS_SENTINEL: &[Sub] = &[
    Sub {
        name: "SENTINEL CKQUORUM",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL CONFIG",
        keys: Keys::Secret,
    },
    Sub {
        name: "SENTINEL FAILOVER",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL FLUSHCONFIG",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL GET-MASTER-ADDR-BY-NAME",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL HELP",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL INFO-CACHE",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL MASTER",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL MASTERS",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL MONITOR",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL MYID",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL REMOVE",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL REPLICAS",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL RESET",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL SENTINELS",
        keys: Keys::None,
    },
    Sub {
        name: "SENTINEL SET",
        keys: Keys::Secret,
    },
];
const SUBS_SLOWLOG: &[Sub] = &[
    Sub {
        name: "SLOWLOG GET",
        keys: Keys::None,
    },
    Sub {
        name: "SLOWLOG HELP",
        keys: Keys::None,
    },
    Sub {
        name: "SLOWLOG LEN",
        keys: Keys::None,
    },
    Sub {
        name: "SLOWLOG RESET",
        keys: Keys::None,
    },
];
const SUBS_XGROUP: &[Sub] = &[
    Sub {
        name: "XGROUP CREATE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Sub {
        name: "XGROUP CREATECONSUMER",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Sub {
        name: "XGROUP DELCONSUMER",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Sub {
        name: "XGROUP DESTROY",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Sub {
        name: "XGROUP HELP",
        keys: Keys::None,
    },
    Sub {
        name: "XGROUP SETID",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
];
const SUBS_XINFO: &[Sub] = &[
    Sub {
        name: "XINFO CONSUMERS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Sub {
        name: "XINFO GROUPS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Sub {
        name: "XINFO HELP",
        keys: Keys::None,
    },
    Sub {
        name: "XINFO STREAM",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
];

/// Every command with a known key layout, sorted by name (349 entries): the Redis commands,
/// and those of the common modules (RedisJSON `JSON.*`, RediSearch `FT.*`, RedisTimeSeries
/// `TS.*`, RedisBloom `BF.*` / `CF.*` / `CMS.*` / `TOPK.*`). A command not listed is recorded
/// as `_OTHER`.
pub(crate) const COMMANDS: &[Spec] = &[
    Spec {
        name: "ACL",
        keys: Keys::Container(SUBS_ACL),
    },
    Spec {
        name: "APPEND",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "AUTH",
        keys: Keys::Secret,
    },
    Spec {
        name: "BF.ADD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BF.CARD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BF.EXISTS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BF.INFO",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BF.INSERT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BF.LOADCHUNK",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BF.MADD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BF.MEXISTS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BF.RESERVE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BF.SCANDUMP",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BGREWRITEAOF",
        keys: Keys::None,
    },
    Spec {
        name: "BGSAVE",
        keys: Keys::None,
    },
    Spec {
        name: "BITCOUNT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BITFIELD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BITFIELD_RO",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BITOP",
        keys: Keys::Range {
            first: 2,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "BITPOS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "BLMOVE",
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
    },
    Spec {
        name: "BLMPOP",
        keys: Keys::Counted { at: 2, dest: false },
    },
    Spec {
        name: "BLPOP",
        keys: Keys::Range {
            first: 1,
            last: -2,
            step: 1,
        },
    },
    Spec {
        name: "BRPOP",
        keys: Keys::Range {
            first: 1,
            last: -2,
            step: 1,
        },
    },
    Spec {
        name: "BRPOPLPUSH",
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
    },
    Spec {
        name: "BZMPOP",
        keys: Keys::Counted { at: 2, dest: false },
    },
    Spec {
        name: "BZPOPMAX",
        keys: Keys::Range {
            first: 1,
            last: -2,
            step: 1,
        },
    },
    Spec {
        name: "BZPOPMIN",
        keys: Keys::Range {
            first: 1,
            last: -2,
            step: 1,
        },
    },
    Spec {
        name: "CF.ADD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CF.ADDNX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CF.COUNT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CF.DEL",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CF.EXISTS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CF.INFO",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CF.INSERT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CF.INSERTNX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CF.LOADCHUNK",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CF.MEXISTS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CF.RESERVE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CF.SCANDUMP",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CLIENT",
        keys: Keys::Container(SUBS_CLIENT),
    },
    Spec {
        name: "CLUSTER",
        keys: Keys::Container(SUBS_CLUSTER),
    },
    Spec {
        name: "CMS.INCRBY",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CMS.INFO",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CMS.INITBYDIM",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CMS.INITBYPROB",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "CMS.MERGE",
        keys: Keys::Counted { at: 2, dest: true },
    },
    Spec {
        name: "CMS.QUERY",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "COMMAND",
        keys: Keys::Container(SUBS_COMMAND),
    },
    Spec {
        name: "CONFIG",
        keys: Keys::Container(SUBS_CONFIG),
    },
    Spec {
        name: "COPY",
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
    },
    Spec {
        name: "DBSIZE",
        keys: Keys::None,
    },
    Spec {
        name: "DEBUG",
        keys: Keys::Container(SUBS_DEBUG),
    },
    Spec {
        name: "DECR",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "DECRBY",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "DEL",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "DISCARD",
        keys: Keys::None,
    },
    Spec {
        name: "DUMP",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ECHO",
        keys: Keys::None,
    },
    Spec {
        name: "EVAL",
        keys: Keys::Counted { at: 2, dest: false },
    },
    Spec {
        name: "EVALSHA",
        keys: Keys::Counted { at: 2, dest: false },
    },
    Spec {
        name: "EVALSHA_RO",
        keys: Keys::Counted { at: 2, dest: false },
    },
    Spec {
        name: "EVAL_RO",
        keys: Keys::Counted { at: 2, dest: false },
    },
    Spec {
        name: "EXEC",
        keys: Keys::None,
    },
    Spec {
        name: "EXISTS",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "EXPIRE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "EXPIREAT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "EXPIRETIME",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "FAILOVER",
        keys: Keys::None,
    },
    Spec {
        name: "FCALL",
        keys: Keys::Counted { at: 2, dest: false },
    },
    Spec {
        name: "FCALL_RO",
        keys: Keys::Counted { at: 2, dest: false },
    },
    Spec {
        name: "FLUSHALL",
        keys: Keys::None,
    },
    Spec {
        name: "FLUSHDB",
        keys: Keys::None,
    },
    Spec {
        name: "FT.AGGREGATE",
        keys: Keys::None,
    },
    Spec {
        name: "FT.ALIASADD",
        keys: Keys::None,
    },
    Spec {
        name: "FT.ALIASDEL",
        keys: Keys::None,
    },
    Spec {
        name: "FT.ALIASUPDATE",
        keys: Keys::None,
    },
    Spec {
        name: "FT.ALTER",
        keys: Keys::None,
    },
    Spec {
        name: "FT.CREATE",
        keys: Keys::None,
    },
    Spec {
        name: "FT.DICTADD",
        keys: Keys::None,
    },
    Spec {
        name: "FT.DICTDEL",
        keys: Keys::None,
    },
    Spec {
        name: "FT.DICTDUMP",
        keys: Keys::None,
    },
    Spec {
        name: "FT.DROPINDEX",
        keys: Keys::None,
    },
    Spec {
        name: "FT.EXPLAIN",
        keys: Keys::None,
    },
    Spec {
        name: "FT.EXPLAINCLI",
        keys: Keys::None,
    },
    Spec {
        name: "FT.INFO",
        keys: Keys::None,
    },
    Spec {
        name: "FT.PROFILE",
        keys: Keys::None,
    },
    Spec {
        name: "FT.SEARCH",
        keys: Keys::None,
    },
    Spec {
        name: "FT.SPELLCHECK",
        keys: Keys::None,
    },
    Spec {
        name: "FT.SUGADD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "FT.SUGDEL",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "FT.SUGGET",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "FT.SUGLEN",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "FT.SYNDUMP",
        keys: Keys::None,
    },
    Spec {
        name: "FT.SYNUPDATE",
        keys: Keys::None,
    },
    Spec {
        name: "FT.TAGVALS",
        keys: Keys::None,
    },
    Spec {
        name: "FT._LIST",
        keys: Keys::None,
    },
    Spec {
        name: "FUNCTION",
        keys: Keys::Container(SUBS_FUNCTION),
    },
    Spec {
        name: "GEOADD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GEODIST",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GEOHASH",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GEOPOS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GEORADIUS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GEORADIUSBYMEMBER",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GEORADIUSBYMEMBER_RO",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GEORADIUS_RO",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GEOSEARCH",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GEOSEARCHSTORE",
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
    },
    Spec {
        name: "GET",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GETBIT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GETDEL",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GETEX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GETRANGE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "GETSET",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HDEL",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HELLO",
        keys: Keys::Hello,
    },
    Spec {
        name: "HEXISTS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HEXPIRE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HEXPIREAT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HEXPIRETIME",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HGET",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HGETALL",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HGETDEL",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HGETEX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HINCRBY",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HINCRBYFLOAT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HKEYS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HLEN",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HMGET",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HMSET",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HPERSIST",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HPEXPIRE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HPEXPIREAT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HPEXPIRETIME",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HPTTL",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HRANDFIELD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HSCAN",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HSET",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HSETEX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HSETNX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HSTRLEN",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HTTL",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "HVALS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "INCR",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "INCRBY",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "INCRBYFLOAT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "INFO",
        keys: Keys::None,
    },
    Spec {
        name: "JSON.ARRAPPEND",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.ARRINDEX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.ARRINSERT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.ARRLEN",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.ARRPOP",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.ARRTRIM",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.CLEAR",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.DEBUG",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.DEL",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.FORGET",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.GET",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.MERGE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.MGET",
        keys: Keys::Range {
            first: 1,
            last: -2,
            step: 1,
        },
    },
    Spec {
        name: "JSON.MSET",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 3,
        },
    },
    Spec {
        name: "JSON.NUMINCRBY",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.NUMMULTBY",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.OBJKEYS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.OBJLEN",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.RESP",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.SET",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.STRAPPEND",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.STRLEN",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.TOGGLE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "JSON.TYPE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "KEYS",
        keys: Keys::None,
    },
    Spec {
        name: "LASTSAVE",
        keys: Keys::None,
    },
    Spec {
        name: "LATENCY",
        keys: Keys::Container(SUBS_LATENCY),
    },
    Spec {
        name: "LCS",
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
    },
    Spec {
        name: "LINDEX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "LINSERT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "LLEN",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "LMOVE",
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
    },
    Spec {
        name: "LMPOP",
        keys: Keys::Counted { at: 1, dest: false },
    },
    Spec {
        name: "LOLWUT",
        keys: Keys::None,
    },
    Spec {
        name: "LPOP",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "LPOS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "LPUSH",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "LPUSHX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "LRANGE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "LREM",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "LSET",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "LTRIM",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "MEMORY",
        keys: Keys::Container(SUBS_MEMORY),
    },
    Spec {
        name: "MGET",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "MIGRATE",
        keys: Keys::Migrate,
    },
    Spec {
        name: "MODULE",
        keys: Keys::Container(SUBS_MODULE),
    },
    Spec {
        name: "MONITOR",
        keys: Keys::None,
    },
    Spec {
        name: "MOVE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "MSET",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 2,
        },
    },
    Spec {
        name: "MSETNX",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 2,
        },
    },
    Spec {
        name: "MULTI",
        keys: Keys::None,
    },
    Spec {
        name: "OBJECT",
        keys: Keys::Container(SUBS_OBJECT),
    },
    Spec {
        name: "PERSIST",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "PEXPIRE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "PEXPIREAT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "PEXPIRETIME",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "PFADD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "PFCOUNT",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "PFMERGE",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "PING",
        keys: Keys::None,
    },
    Spec {
        name: "PSETEX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "PSUBSCRIBE",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "PSYNC",
        keys: Keys::None,
    },
    Spec {
        name: "PTTL",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "PUBLISH",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "PUBSUB",
        keys: Keys::Container(SUBS_PUBSUB),
    },
    Spec {
        name: "PUNSUBSCRIBE",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "QUIT",
        keys: Keys::None,
    },
    Spec {
        name: "RANDOMKEY",
        keys: Keys::None,
    },
    Spec {
        name: "READONLY",
        keys: Keys::None,
    },
    Spec {
        name: "READWRITE",
        keys: Keys::None,
    },
    Spec {
        name: "RENAME",
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
    },
    Spec {
        name: "RENAMENX",
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
    },
    Spec {
        name: "REPLICAOF",
        keys: Keys::None,
    },
    Spec {
        name: "RESET",
        keys: Keys::None,
    },
    Spec {
        name: "RESTORE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ROLE",
        keys: Keys::None,
    },
    Spec {
        name: "RPOP",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "RPOPLPUSH",
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
    },
    Spec {
        name: "RPUSH",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "RPUSHX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SADD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SAVE",
        keys: Keys::None,
    },
    Spec {
        name: "SCAN",
        keys: Keys::None,
    },
    Spec {
        name: "SCARD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SCRIPT",
        keys: Keys::Container(SUBS_SCRIPT),
    },
    Spec {
        name: "SDIFF",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "SDIFFSTORE",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "SELECT",
        keys: Keys::None,
    },
    Spec {
        name: "SENTINEL",
        keys: Keys::Container(SUBS_SENTINEL),
    },
    Spec {
        name: "SET",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SETBIT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SETEX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SETNX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SETRANGE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SHUTDOWN",
        keys: Keys::None,
    },
    Spec {
        name: "SINTER",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "SINTERCARD",
        keys: Keys::Counted { at: 1, dest: false },
    },
    Spec {
        name: "SINTERSTORE",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "SISMEMBER",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SLAVEOF",
        keys: Keys::None,
    },
    Spec {
        name: "SLOWLOG",
        keys: Keys::Container(SUBS_SLOWLOG),
    },
    Spec {
        name: "SMEMBERS",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SMISMEMBER",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SMOVE",
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
    },
    Spec {
        name: "SORT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SORT_RO",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SPOP",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SPUBLISH",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SRANDMEMBER",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SREM",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SSCAN",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SSUBSCRIBE",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "STRLEN",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SUBSCRIBE",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "SUBSTR",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "SUNION",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "SUNIONSTORE",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "SUNSUBSCRIBE",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "SWAPDB",
        keys: Keys::None,
    },
    Spec {
        name: "SYNC",
        keys: Keys::None,
    },
    Spec {
        name: "TIME",
        keys: Keys::None,
    },
    Spec {
        name: "TOPK.ADD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TOPK.COUNT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TOPK.INCRBY",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TOPK.INFO",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TOPK.LIST",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TOPK.QUERY",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TOPK.RESERVE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TOUCH",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "TS.ADD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TS.ALTER",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TS.CREATE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TS.CREATERULE",
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
    },
    Spec {
        name: "TS.DECRBY",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TS.DEL",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TS.DELETERULE",
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
    },
    Spec {
        name: "TS.GET",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TS.INCRBY",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TS.INFO",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TS.MADD",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 3,
        },
    },
    Spec {
        name: "TS.MGET",
        keys: Keys::None,
    },
    Spec {
        name: "TS.MRANGE",
        keys: Keys::None,
    },
    Spec {
        name: "TS.MREVRANGE",
        keys: Keys::None,
    },
    Spec {
        name: "TS.QUERYINDEX",
        keys: Keys::None,
    },
    Spec {
        name: "TS.RANGE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TS.REVRANGE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TTL",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "TYPE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "UNLINK",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "UNSUBSCRIBE",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "UNWATCH",
        keys: Keys::None,
    },
    Spec {
        name: "WAIT",
        keys: Keys::None,
    },
    Spec {
        name: "WAITAOF",
        keys: Keys::None,
    },
    Spec {
        name: "WATCH",
        keys: Keys::Range {
            first: 1,
            last: -1,
            step: 1,
        },
    },
    Spec {
        name: "XACK",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "XADD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "XAUTOCLAIM",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "XCLAIM",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "XDEL",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "XGROUP",
        keys: Keys::Container(SUBS_XGROUP),
    },
    Spec {
        name: "XINFO",
        keys: Keys::Container(SUBS_XINFO),
    },
    Spec {
        name: "XLEN",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "XPENDING",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "XRANGE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "XREAD",
        keys: Keys::Streams,
    },
    Spec {
        name: "XREADGROUP",
        keys: Keys::Streams,
    },
    Spec {
        name: "XREVRANGE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "XSETID",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "XTRIM",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZADD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZCARD",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZCOUNT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZDIFF",
        keys: Keys::Counted { at: 1, dest: false },
    },
    Spec {
        name: "ZDIFFSTORE",
        keys: Keys::Counted { at: 2, dest: true },
    },
    Spec {
        name: "ZINCRBY",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZINTER",
        keys: Keys::Counted { at: 1, dest: false },
    },
    Spec {
        name: "ZINTERCARD",
        keys: Keys::Counted { at: 1, dest: false },
    },
    Spec {
        name: "ZINTERSTORE",
        keys: Keys::Counted { at: 2, dest: true },
    },
    Spec {
        name: "ZLEXCOUNT",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZMPOP",
        keys: Keys::Counted { at: 1, dest: false },
    },
    Spec {
        name: "ZMSCORE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZPOPMAX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZPOPMIN",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZRANDMEMBER",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZRANGE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZRANGEBYLEX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZRANGEBYSCORE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZRANGESTORE",
        keys: Keys::Range {
            first: 1,
            last: 2,
            step: 1,
        },
    },
    Spec {
        name: "ZRANK",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZREM",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZREMRANGEBYLEX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZREMRANGEBYRANK",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZREMRANGEBYSCORE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZREVRANGE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZREVRANGEBYLEX",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZREVRANGEBYSCORE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZREVRANK",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZSCAN",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZSCORE",
        keys: Keys::Range {
            first: 1,
            last: 1,
            step: 1,
        },
    },
    Spec {
        name: "ZUNION",
        keys: Keys::Counted { at: 1, dest: false },
    },
    Spec {
        name: "ZUNIONSTORE",
        keys: Keys::Counted { at: 2, dest: true },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_upper_case() {
        for pair in COMMANDS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} !< {}",
                pair[0].name,
                pair[1].name
            );
        }
        for spec in COMMANDS {
            assert_eq!(spec.name, spec.name.to_ascii_uppercase());
            assert!(
                spec.name.as_bytes()[0].is_ascii_uppercase(),
                "{}",
                spec.name
            );
            if let Keys::Container(subs) = spec.keys {
                for sub in subs {
                    assert!(sub.name.starts_with(spec.name), "{}", sub.name);
                    assert_eq!(sub.name, sub.name.to_ascii_uppercase());
                }
            }
        }
    }

    #[test]
    fn lookups_ignore_case() {
        assert_eq!(lookup(b"get").map(|s| s.name), Some("GET"));
        assert_eq!(lookup(b"GeT").map(|s| s.name), Some("GET"));
        assert_eq!(lookup(b"eval_ro").map(|s| s.name), Some("EVAL_RO"));
        assert_eq!(lookup(b"evalsha").map(|s| s.name), Some("EVALSHA"));
        assert!(lookup(b"GETX").is_none());
        assert!(lookup(b"").is_none());
        assert!(lookup(&[0xff, 0xfe]).is_none());
        assert!(lookup(b"1GET").is_none());
        assert!(lookup(b"_GET").is_none());
        assert!(lookup(b"ZZZZZ").is_none());
        assert!(lookup(&[b'S'; MAX_NAME_LEN + 1]).is_none());
        for spec in COMMANDS {
            assert_eq!(
                lookup(spec.name.to_ascii_lowercase().as_bytes()).map(|s| s.name),
                Some(spec.name)
            );
        }
        let Some(Spec {
            keys: Keys::Container(subs),
            ..
        }) = lookup(b"config")
        else {
            panic!("CONFIG is a container");
        };
        assert_eq!(lookup_sub(subs, b"set").map(|s| s.name), Some("CONFIG SET"));
        assert_eq!(lookup_sub(subs, b"set").map(|s| s.keys), Some(Keys::Secret));
        assert!(lookup_sub(subs, b"sett").is_none());
    }
}
