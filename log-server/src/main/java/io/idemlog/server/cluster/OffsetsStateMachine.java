package io.idemlog.server.cluster;

import io.idemlog.common.record.Crc32c;
import io.idemlog.server.group.OffsetJournal;
import io.idemlog.server.group.OffsetRecords;
import io.idemlog.server.group.OffsetValue;
import io.idemlog.server.group.TopicPartition;
import io.idemlog.server.state.DurableFiles;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The committed offsets of consumer groups in cluster mode: the Ratis state machine of the offsets group (one group
 * on every voter, see {@link ClusterGroupCoordinator}). An entry is the framed {@link OffsetRecords} one
 * coordinator group commit journaled; apply replays them in log order on every replica (pure: no clock, no
 * randomness), so every replica holds the same offsets and group records, and the node that becomes the group's
 * leader loads the coordinator from them ({@link #copyState}).
 *
 * <p>Snapshot ({@code snapshot.<term>_<index>} + MD5 in Ratis's {@link SimpleStateMachineStorage} layout): magic
 * {@code IDLOSNP1}, {@code int32} frame count, the live state as put frames, {@code int32} CRC-32C of everything
 * before; installed on a replica behind a purged log by Ratis. A damaged snapshot refuses to start with the file
 * named; an entry that does not decode fails apply identically on every replica.
 */
public final class OffsetsStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(OffsetsStateMachine.class);
    private static final byte[] MAGIC = "IDLOSNP1".getBytes(StandardCharsets.US_ASCII);

    /** A copy of the replicated state: offsets by group, and the group records offset expiry needs. */
    public record State(Map<String, Map<TopicPartition, OffsetValue>> offsets,
                        Map<String, OffsetJournal.GroupRecord> groups) {
    }

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final Object lock = new Object();
    private Map<String, Map<TopicPartition, OffsetValue>> offsets = new TreeMap<>();
    private Map<String, OffsetJournal.GroupRecord> groups = new TreeMap<>();
    /** Told (on a Ratis thread: must return at once) when this replica's role may have changed. */
    private volatile Runnable roleHook = () -> { };
    private volatile long snapshotsInstalled;

    public void setRoleHook(Runnable hook) {
        this.roleHook = hook;
    }

    /** A deep copy of the state as of the last applied entry. */
    public State copyState() {
        synchronized (lock) {
            Map<String, Map<TopicPartition, OffsetValue>> o = new TreeMap<>();
            offsets.forEach((g, m) -> o.put(g, new TreeMap<>(m)));
            return new State(o, new TreeMap<>(groups));
        }
    }

    /** Snapshots this replica loaded through {@link #reinitialize} (a leader's install). */
    public long snapshotsInstalled() {
        return snapshotsInstalled;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        getLifeCycle().transition(LifeCycle.State.STARTING);
        load(storage.getLatestSnapshot());
        getLifeCycle().transition(LifeCycle.State.RUNNING);
    }

    @Override
    public void pause() {
        getLifeCycle().transition(LifeCycle.State.PAUSING);
        getLifeCycle().transition(LifeCycle.State.PAUSED);
    }

    @Override
    public void reinitialize() throws IOException {
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
        }
        load(storage.loadLatestSnapshot());
        getLifeCycle().transition(LifeCycle.State.RUNNING);
        snapshotsInstalled = snapshotsInstalled + 1;
        LOG.info("{}: offsets snapshot installed, applied {}", getGroupId(), getLastAppliedTermIndex());
    }

    private void load(SingleFileSnapshotInfo snapshot) throws IOException {
        Map<String, Map<TopicPartition, OffsetValue>> o = new TreeMap<>();
        Map<String, OffsetJournal.GroupRecord> g = new TreeMap<>();
        if (snapshot != null) {
            File file = snapshot.getFile().getPath().toFile();
            if (snapshot.getFile().getFileDigest() != null) {
                MD5FileUtil.verifySavedMD5(file, snapshot.getFile().getFileDigest());
            }
            byte[] all = Files.readAllBytes(file.toPath());
            if (all.length < MAGIC.length + 8 || !Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
                throw new IOException(file + ": not an offsets snapshot (too short or bad magic)");
            }
            int crcAt = all.length - 4;
            if ((Crc32c.compute(all, 0, crcAt) & 0xffffffffL) != (ByteBuffer.wrap(all).getInt(crcAt) & 0xffffffffL)) {
                throw new IOException(file + ": checksum mismatch: the offsets snapshot is damaged");
            }
            int count = ByteBuffer.wrap(all).getInt(MAGIC.length);
            int applied;
            try {
                applied = OffsetRecords.applyAll(ByteBuffer.wrap(all, MAGIC.length + 4, crcAt - MAGIC.length - 4)
                    .slice(), o, g);
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": undecodable offsets snapshot: " + e.getMessage(), e);
            }
            if (applied != count) {
                throw new IOException(file + ": offsets snapshot holds " + applied + " records, its header says "
                    + count);
            }
            setLastAppliedTermIndex(snapshot.getTermIndex());
            LOG.info("{}: offsets loaded from {} ({} groups with offsets, {} group records)", getGroupId(),
                file.getName(), o.size(), g.size());
        }
        synchronized (lock) {
            offsets = o;
            groups = g;
        }
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        ByteBuffer data = entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer();
        synchronized (lock) {
            try {
                // every frame is decoded once into throwaway maps first: an entry that does not decode changes
                // nothing (all or nothing, as on every replica)
                OffsetRecords.applyAll(data.duplicate(), new TreeMap<>(), new TreeMap<>());
                OffsetRecords.applyAll(data, offsets, groups);
            } catch (IllegalArgumentException e) {
                // Not an entry our journal writes: every replica meets it at the same index and fails the same way.
                LOG.error("{}: offsets entry {} does not decode", getGroupId(), entry.getIndex(), e);
                return CompletableFuture.failedFuture(e);
            }
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        }
        return CompletableFuture.completedFuture(Message.EMPTY);
    }

    @Override
    public void notifyLeaderReady() {
        roleHook.run();
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
        roleHook.run();
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    /** On the updater thread (apply waits): the state at the last applied index, written atomically. */
    @Override
    public long takeSnapshot() throws IOException {
        TermIndex applied;
        OffsetRecords frames = new OffsetRecords(4096);
        synchronized (lock) {
            applied = getLastAppliedTermIndex();
            if (applied == null || applied.getIndex() < 0) {
                return -1;
            }
            frames.putAll(offsets, groups);
        }
        File file = storage.getSnapshotFile(applied.getTerm(), applied.getIndex());
        byte[] body = frames.toByteArray();
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 4 + body.length + 4).put(MAGIC).putInt(frames.count())
            .put(body);
        out.putInt((int) Crc32c.compute(out.array(), 0, out.position()));
        out.flip();
        DurableFiles.writeAtomically(file.toPath(), ch -> DurableFiles.writeFully(ch, out));
        MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), applied));
        LOG.info("{}: offsets snapshot {} ({} records)", getGroupId(), file.getName(), frames.count());
        return applied.getIndex();
    }
}
