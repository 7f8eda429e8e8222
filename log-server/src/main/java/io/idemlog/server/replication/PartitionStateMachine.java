package io.idemlog.server.replication;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.log.AppendOutcome;
import io.idemlog.server.log.DedupConfig;
import io.idemlog.server.log.ReplicaStorage;
import org.agrona.concurrent.EpochClock;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One partition as a Ratis state machine (docs/REPLICATION.md 4.2): apply is the single node's deterministic step
 * ({@code PartitionApplier.apply} through {@link ReplicaStorage.Log#apply}: producer-state check, de-duplication
 * keys, offset assignment, patch, segment append) with the leader's time from the entry and the entry's Raft term as
 * the leader epoch. A retry that reaches a new leader is therefore answered DUPLICATE with its original offset by
 * construction: the producer state is a function of the applied log.
 *
 * <p>Threads (Ratis's): {@link #startTransaction} on the leader's request threads (stamps the leader's clock;
 * the stateless batch checks ran on the proposer before submitting, {@link ReplicatedPartition});
 * {@link #applyTransaction}, {@link #takeSnapshot}, {@link #pause}, {@link #reinitialize} on the group's state
 * machine updater, the single writer of the partition's storage. Reads go to the storage directly
 * ({@link #log()}), lock-free as on a single node.
 *
 * <p>Storage: the partition's files live in the group's state machine directory with a {@link PartitionDescriptor}
 * and the snapshot manifests ({@link SnapshotManifestFile}). Snapshot = fsync + state files + manifest, no copy;
 * restart and install cut the directory to the newest manifest and Ratis replays the entries after it.
 */
public final class PartitionStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionStateMachine.class);

    private final PartitionGroups groups;
    private final EpochClock clock;
    private final Storage storage = new Storage();
    private final AppendOutcome outcome = new AppendOutcome();
    private PartitionDescriptor descriptor;
    private ByteBuffer applyBuffer = ByteBuffer.allocateDirect(64 << 10);
    private volatile ReplicaStorage.Log log;
    private volatile Path dir;
    private volatile RaftServer raftServer;
    /**
     * The replicated topic settings in force (the last config entry applied, or the snapshot's at load); null when
     * none was ever applied: the settings then are this node's, with the topic's de-duplication window as the image
     * gives it at load (groups created before config entries existed, until their leader proposes one). Written by
     * the updater thread.
     */
    private volatile ReplicatedConfig appliedConfig;
    /** Snapshots installed from a leader into this replica (reinitialize calls). */
    private volatile int installs;

    /** @param descriptor what the group holds when it is being created here (null: read it from the directory) */
    PartitionStateMachine(PartitionGroups groups, EpochClock clock, PartitionDescriptor descriptor) {
        this.groups = groups;
        this.clock = clock;
        this.descriptor = descriptor;
    }

    // ---------------------------------------------------------------------------------------------- life cycle

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        raftServer = server;
        storage.init(raftStorage);
        dir = raftStorage.getStorageDir().getStateMachineDir().toPath();
        if (descriptor == null) {
            descriptor = PartitionDescriptor.read(dir);
            if (descriptor == null) {
                throw new IOException("group " + groupId + ": no " + PartitionDescriptor.FILE_NAME + " in " + dir
                    + " (a partition group's directory always has one)");
            }
        } else {
            descriptor.write(dir);
        }
        getLifeCycle().transition(LifeCycle.State.STARTING);
        load();
        getLifeCycle().transition(LifeCycle.State.RUNNING);
        groups.hosted(this);
    }

    /** Before a leader-sent snapshot replaces the directory: close the storage (Ratis then swaps the files). */
    @Override
    public void pause() {
        getLifeCycle().transition(LifeCycle.State.PAUSING);
        closeLog();
        storage.forget(); // the install replaces the directory's manifests
        getLifeCycle().transition(LifeCycle.State.PAUSED);
    }

    /** After a snapshot install: the installed files, cut to their manifest. */
    @Override
    public void reinitialize() throws IOException {
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
        }
        descriptor.write(dir);
        load();
        installs++;
        getLifeCycle().transition(LifeCycle.State.RUNNING);
        LOG.info("{}: reinitialized from a snapshot at {} (log end offset {})", this, getLastAppliedTermIndex(),
            log.logEndOffset());
    }

    @Override
    public void close() {
        closeLog();
        groups.closed(this);
    }

    private void closeLog() {
        ReplicaStorage.Log l = log;
        log = null;
        if (l != null) {
            try {
                l.close();
            } catch (IOException e) {
                LOG.warn("{}: closing the partition storage failed", this, e);
            }
        }
    }

    private void load() throws IOException {
        closeLog();
        storage.forget();
        SnapshotManifestFile m = SnapshotManifestFile.newest(dir);
        ReplicatedConfig config = m == null ? null : m.config();
        DedupConfig dedup = config != null ? config.dedup() : groups.dedupFor(descriptor);
        ReplicaStorage.Log opened = groups.storage().open(descriptor.topic(), descriptor.partition(), dir, dedup,
            m == null ? null : m.manifest(), m == null ? -1L : m.index());
        if (config != null) {
            opened.reconfigure(config.applyTo(opened.config()));
        }
        long expectedEnd = m == null ? 0L : m.manifest().logEndOffset();
        if (opened.logEndOffset() != expectedEnd) {
            // Recovery cut the files below what the snapshot covers (damage inside it): Ratis would replay only the
            // entries after the snapshot, at the wrong offsets. Refuse rather than diverge from the other replicas.
            opened.close();
            throw new IOException(this + ": the partition's files in " + dir + " end at offset "
                + opened.logEndOffset() + " after recovery, but snapshot " + (m == null ? "(none)" : m.name())
                + " covers up to " + expectedEnd + ": damaged within the snapshot; move the directory away to "
                + "let the replica be rebuilt from the leader");
        }
        log = opened;
        storage.forget(); // what was read while the storage opened (and cut its files) is read again
        appliedConfig = config;
        setLastAppliedTermIndex(m == null ? TermIndex.INITIAL_VALUE : TermIndex.valueOf(m.term(), m.index()));
        LOG.info("{}: storage loaded at {} (log end offset {})", this, m == null ? "the start" : "snapshot "
            + m.name(), log.logEndOffset());
    }

    // ---------------------------------------------------------------------------------------------- leader side

    /** The leader's request thread: the entry = the request's kind + the leader's clock + the batch as sent. */
    @Override
    public TransactionContext startTransaction(RaftClientRequest request) {
        ByteString content = request.getMessage().getContent();
        TransactionContext.Builder b = TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request);
        byte kind = content.isEmpty() ? 0 : content.byteAt(0);
        if (kind != PartitionEntry.BATCH && kind != PartitionEntry.TICK && kind != PartitionEntry.LOG_START
            && kind != PartitionEntry.CONFIG) {
            TransactionContext t = b.setLogData(ByteString.EMPTY).build();
            t.setException(new IOException("not a partition request (kind " + kind + ")"));
            return t;
        }
        ByteString entry = PartitionEntry.entryHeader(kind, clock.time())
            .concat(content.substring(PartitionEntry.REQUEST_HEADER));
        return b.setLogData(entry).build();
    }

    // ---------------------------------------------------------------------------------------------- apply

    /** The updater thread, in log order, on every replica: the deterministic step. */
    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        ByteString data = entry.getStateMachineLogEntry().getLogData();
        ReplicaStorage.Log l = log;
        if (data.size() < PartitionEntry.ENTRY_HEADER || l == null) {
            return CompletableFuture.failedFuture(new IOException(this + ": cannot apply entry " + entry.getIndex()
                + (l == null ? " (storage closed)" : " (" + data.size() + " bytes)")));
        }
        ByteBuffer header = data.substring(0, PartitionEntry.ENTRY_HEADER).asReadOnlyByteBuffer();
        byte kind = header.get();
        long leaderTimeMs = header.getLong();
        ByteString reply;
        if (kind == PartitionEntry.TICK) {
            l.expire(leaderTimeMs);
            reply = ByteString.EMPTY;
        } else if (kind == PartitionEntry.CONFIG) {
            reply = applyConfig(l, data, entry);
        } else if (kind == PartitionEntry.LOG_START) {
            try {
                reply = applyLogStart(l, data, entry);
            } catch (IOException e) {
                // this replica's disk, not a decision of apply: stop applying rather than diverge
                LOG.error("{}: storage failed applying log start entry {}; this replica stops applying", this,
                    entry.getIndex(), e);
                return CompletableFuture.failedFuture(e);
            }
        } else {
            int length = data.size() - PartitionEntry.ENTRY_HEADER;
            if (applyBuffer.capacity() < length) {
                applyBuffer = ByteBuffer.allocateDirect(Integer.highestOneBit(length) << 1);
            }
            ByteBuffer buf = applyBuffer;
            buf.clear();
            data.substring(PartitionEntry.ENTRY_HEADER).copyTo(buf);
            buf.flip();
            int term = (int) Math.min(Integer.MAX_VALUE, entry.getTerm());
            l.apply(buf, 0, length, leaderTimeMs, term, outcome);
            if (outcome.error() == ErrorCode.KAFKA_STORAGE_ERROR && l.offline()) {
                // Not a decision of apply but this replica's disk: going on would make it diverge from the others
                // (they appended the batch). Stop applying; Ratis takes this division out of service.
                LOG.error("{}: storage failed applying entry {}; this replica stops applying", this,
                    entry.getIndex());
                return CompletableFuture.failedFuture(new IOException(this + ": storage offline at entry "
                    + entry.getIndex()));
            }
            reply = PartitionEntry.reply(outcome);
        }
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        return CompletableFuture.completedFuture(Message.valueOf(reply));
    }

    /**
     * A log start entry (DeleteRecords, or retention as the leader decided it): the log start offset moves on every
     * replica at the same point of the log, bounded by the log end there (the same everywhere; a refusal is the same
     * everywhere too). When it moved, a snapshot at this entry that no longer names the segments entirely below it,
     * then those segments go: a restart or an install never needs them. The reply carries the log start after.
     */
    private ByteString applyLogStart(ReplicaStorage.Log l, ByteString data, LogEntryProto entry) throws IOException {
        if (data.size() != PartitionEntry.ENTRY_HEADER + 8) {
            return PartitionEntry.logStartReply(ErrorCode.INVALID_REQUEST, -1L, "a log start entry of "
                + data.size() + " bytes");
        }
        long target = data.substring(PartitionEntry.ENTRY_HEADER).asReadOnlyByteBuffer().getLong();
        synchronized (logStartLock) {
            long before = l.logStartOffset();
            long after;
            try {
                after = l.moveLogStart(target);
            } catch (io.idemlog.server.metadata.AdminException e) {
                return PartitionEntry.logStartReply(e.error(), -1L, e.getMessage());
            }
            if (after > before) {
                writeSnapshot(l, TermIndex.valueOf(entry.getTerm(), entry.getIndex()));
                int removed = l.removeBelowLogStart();
                LOG.info("{}: log start offset {} -> {} at entry {} ({} segment(s) removed)", this, before, after,
                    entry.getIndex(), removed);
            }
            return PartitionEntry.logStartReply(ErrorCode.NONE, after, null);
        }
    }

    /** Held from a log start entry's move to its snapshot: no segment below the new start goes before that. */
    private final Object logStartLock = new Object();

    /**
     * Removes the segments entirely below the log start offset that the log start entry's apply could not (their
     * seal was still pending then: a segment rolled just before); PartitionGroups calls it every retention check on
     * every replica. Never between a log start entry's move and its snapshot (the snapshot before still names them).
     *
     * @return how many segments were removed
     */
    int removeBelowLogStart() {
        synchronized (logStartLock) {
            ReplicaStorage.Log l = log;
            return l == null ? 0 : l.removeBelowLogStart();
        }
    }

    /**
     * A config entry: the settings apply decides with from the next entry on, on every replica at this point of the
     * log. One that cannot be decoded is refused (the same everywhere) and changes nothing.
     */
    private ByteString applyConfig(ReplicaStorage.Log l, ByteString data, LogEntryProto entry) {
        ReplicatedConfig config;
        try {
            config = ReplicatedConfig.decode(data.substring(PartitionEntry.ENTRY_HEADER).toStringUtf8());
        } catch (IllegalArgumentException e) {
            LOG.warn("{}: config entry {} refused: {}", this, entry.getIndex(), e.getMessage());
            return PartitionEntry.configReply(ErrorCode.INVALID_CONFIG, "config entry refused: " + e.getMessage());
        }
        ReplicatedConfig was = appliedConfig;
        if (was != null && config.version() < was.version()) {
            LOG.info("{}: config entry {} ignored: read at metadata index {}, older than the settings in force ({})",
                this, entry.getIndex(), config.version(), was);
            return PartitionEntry.configReply(ErrorCode.NONE, null);
        }
        l.reconfigure(config.applyTo(l.config()));
        appliedConfig = config;
        if (!config.sameSettings(was)) {
            LOG.info("{}: topic settings at entry {}: {}", this, entry.getIndex(), config);
        }
        groups.configApplied(this);
        return PartitionEntry.configReply(ErrorCode.NONE, null);
    }

    /** The replicated topic settings in force here, or null (none applied yet). */
    ReplicatedConfig appliedConfig() {
        return appliedConfig;
    }

    // ---------------------------------------------------------------------------------------------- leadership

    @Override
    public void notifyLeaderReady() {
        LOG.info("{}: this replica leads, ready (its term's first entry applied)", this);
        groups.leaderReady(this);
    }

    /** Logged (the failover timeline, docs/REPLICATION.md section 4.9): when this replica learns a new leader. */
    @Override
    public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
        LOG.info("{}: leader now {}", this, newLeaderId);
    }

    // ---------------------------------------------------------------------------------------------- snapshots

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    /** The updater thread (apply waits): the files at the applied index ARE the snapshot. */
    @Override
    public long takeSnapshot() throws IOException {
        ReplicaStorage.Log l = log;
        TermIndex applied = getLastAppliedTermIndex();
        if (l == null || applied == null || applied.getIndex() < 0) {
            return -1L;
        }
        writeSnapshot(l, applied);
        return applied.getIndex();
    }

    /** The files at {@code at} (the state after applying it) as a snapshot: fsync, state files, manifest. */
    private void writeSnapshot(ReplicaStorage.Log l, TermIndex at) throws IOException {
        ReplicaStorage.Manifest manifest = l.snapshot(at.getIndex());
        SnapshotManifestFile m = new SnapshotManifestFile(at.getTerm(), at.getIndex(), manifest, appliedConfig);
        m.write(dir);
        storage.published(dir, m);
        LOG.info("{}: snapshot {} (log start offset {}, log end offset {}, {} segments)", this, m.name(),
            manifest.logStartOffset(), manifest.logEndOffset(), manifest.bases().length);
    }

    /**
     * The snapshot Ratis sees: the newest manifest's files. Ratis asks for it on every pass of each leader's log
     * appender (shouldInstallSnapshot) and more; reading the directory and the manifest each time was 7 % of a
     * cluster node's CPU under load (docs/BENCHMARKS.md, "Preferred leaders and a profile of the cluster path"). So
     * it is kept in memory: published when this replica writes a manifest, forgotten (read again from the directory
     * on the next call) when the directory's manifests change otherwise (load at start, a snapshot install).
     */
    private final class Storage implements StateMachineStorage {
        /** The latest snapshot as known (a holder, so that "none" is a known answer); null: read it again. */
        private volatile Latest latest;
        private final Object lock = new Object();

        @Override
        public void init(RaftStorage raftStorage) {
        }

        @Override
        public SnapshotInfo getLatestSnapshot() {
            Latest l = latest;
            if (l != null) {
                return l.info();
            }
            synchronized (lock) {
                l = latest;
                if (l != null) {
                    return l.info();
                }
                Path d = dir;
                if (d == null) {
                    return null;
                }
                try {
                    SnapshotManifestFile m = SnapshotManifestFile.newest(d);
                    latest = l = new Latest(m == null ? null : info(d, m));
                    return l.info();
                } catch (IOException e) {
                    LOG.warn("{}: cannot read the latest snapshot", PartitionStateMachine.this, e);
                    return null; // not cached: asked again next time
                }
            }
        }

        /** This replica wrote manifest {@code m} in {@code d}: it is the latest snapshot now. */
        void published(Path d, SnapshotManifestFile m) throws IOException {
            SnapshotInfo info = info(d, m);
            synchronized (lock) {
                latest = new Latest(info);
            }
        }

        /** The directory's manifests are changing or changed behind this object: read them on the next call. */
        void forget() {
            synchronized (lock) {
                latest = null;
            }
        }

        private SnapshotInfo info(Path d, SnapshotManifestFile m) throws IOException {
            List<FileInfo> files = new ArrayList<>();
            files.add(new FileInfo(d.resolve(m.name()), null));
            files.add(new FileInfo(d.resolve(PartitionDescriptor.FILE_NAME), null));
            for (Path p : m.manifest().files(d, m.index())) {
                files.add(new FileInfo(p, null));
            }
            return new FileListSnapshotInfo(files, m.term(), m.index());
        }

        @Override
        public void format() {
        }

        @Override
        public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) {
            // SnapshotManifestFile.write keeps the newest two; the data files belong to the live partition
        }

        /** The state machine directory: Ratis ships the snapshot's files by their path relative to it. */
        @Override
        public File getSnapshotDir() {
            Path d = dir;
            return d == null ? null : d.toFile();
        }
    }

    // ---------------------------------------------------------------------------------------------- access

    int installs() {
        return installs;
    }

    /** The Raft server hosting this group (set by initialize). */
    RaftServer raftServer() {
        return raftServer;
    }

    PartitionDescriptor descriptor() {
        return descriptor;
    }

    /** The partition's storage, or null while it is closed (a snapshot install in progress, or closed). */
    ReplicaStorage.Log log() {
        return log;
    }

    @Override
    public String toString() {
        PartitionDescriptor d = descriptor;
        return d == null ? "partition-group " + getGroupId() : d.topic() + "-" + d.partition();
    }

    /** A known latest snapshot (null: there is none). */
    private record Latest(SnapshotInfo info) {
    }
}
