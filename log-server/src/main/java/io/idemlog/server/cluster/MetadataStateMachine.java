package io.idemlog.server.cluster;

import io.idemlog.common.record.Crc32c;
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
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The metadata group's Ratis state machine: apply = {@link ClusterImage#apply} (pure, in log order, on Ratis's
 * single updater thread), publishing each new image. Snapshots in Ratis's {@link SimpleStateMachineStorage} layout
 * ({@code snapshot.<term>_<index>} + its MD5 file in the state machine dir): the image's bytes framed with a magic
 * and a CRC-32C, written atomically; a lagging node behind a purged log gets it by Ratis's snapshot install
 * ({@link #pause} / {@link #reinitialize}).
 */
public final class MetadataStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataStateMachine.class);
    /** Snapshot magic of body version 1 (no brokers: read, never written any more). */
    private static final byte[] MAGIC_V1 = "IDLCSNP1".getBytes(StandardCharsets.US_ASCII);
    /** Snapshot magic of body version 2 (with the registered brokers: read, never written any more). */
    private static final byte[] MAGIC_V2 = "IDLCSNP2".getBytes(StandardCharsets.US_ASCII);
    /** Snapshot magic of body version 3 (with the named producers): what {@link #takeSnapshot} writes. */
    private static final byte[] MAGIC = "IDLCSNP3".getBytes(StandardCharsets.US_ASCII);
    static final byte ACCEPTED = 0;
    static final byte REFUSED = 1;

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private volatile ClusterImage image = ClusterImage.EMPTY;
    private final List<Waiter> waiters = new ArrayList<>();
    private volatile long snapshotsInstalled;
    /** Told (on the Ratis thread, must not block) after each new image is published; null = nobody. */
    private volatile Runnable imageHook;

    private record Waiter(long index, CompletableFuture<ClusterImage> future) {
    }

    /** The image as of the last applied entry (immutable). */
    public ClusterImage image() {
        return image;
    }

    /** Sets who is told (on Ratis's thread: must return at once) after each newly published image. */
    void setImageHook(Runnable hook) {
        imageHook = hook;
    }

    private void fireHook() {
        Runnable h = imageHook;
        if (h != null) {
            h.run();
        }
    }

    /** Snapshots this node loaded through {@link #reinitialize} (a leader's install). */
    public long snapshotsInstalled() {
        return snapshotsInstalled;
    }

    /** Completes (with the image then) once this node has applied the entry at {@code index}. */
    CompletableFuture<ClusterImage> awaitApplied(long index) {
        CompletableFuture<ClusterImage> f = new CompletableFuture<>();
        synchronized (waiters) {
            if (getLastAppliedTermIndex().getIndex() >= index) {
                f.complete(image);
            } else {
                waiters.add(new Waiter(index, f));
            }
        }
        return f;
    }

    private void wakeWaiters() {
        long applied = getLastAppliedTermIndex().getIndex();
        ClusterImage now = image;
        List<CompletableFuture<ClusterImage>> done = new ArrayList<>();
        synchronized (waiters) {
            for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                if (w.index() <= applied) {
                    done.add(w.future());
                    it.remove();
                }
            }
        }
        for (CompletableFuture<ClusterImage> f : done) {
            f.complete(now);
        }
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
        LOG.info("{}: metadata snapshot installed, applied {}", getGroupId(), getLastAppliedTermIndex());
        wakeWaiters();
        fireHook();
    }

    private void load(SingleFileSnapshotInfo snapshot) throws IOException {
        if (snapshot == null) {
            image = ClusterImage.EMPTY;
            return;
        }
        File file = snapshot.getFile().getPath().toFile();
        if (snapshot.getFile().getFileDigest() != null) {
            MD5FileUtil.verifySavedMD5(file, snapshot.getFile().getFileDigest());
        }
        byte[] all = Files.readAllBytes(file.toPath());
        int version;
        if (all.length < MAGIC.length + 4) {
            throw new IOException(file + ": not a metadata snapshot (too short)");
        } else if (java.util.Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            version = ClusterImage.SNAPSHOT_V3;
        } else if (java.util.Arrays.equals(all, 0, MAGIC_V2.length, MAGIC_V2, 0, MAGIC_V2.length)) {
            version = ClusterImage.SNAPSHOT_V2;
        } else if (java.util.Arrays.equals(all, 0, MAGIC_V1.length, MAGIC_V1, 0, MAGIC_V1.length)) {
            version = ClusterImage.SNAPSHOT_V1;
        } else {
            throw new IOException(file + ": not a metadata snapshot (bad magic)");
        }
        int crcAt = all.length - 4;
        if ((Crc32c.compute(all, 0, crcAt) & 0xffffffffL) != (ByteBuffer.wrap(all).getInt(crcAt) & 0xffffffffL)) {
            throw new IOException(file + ": checksum mismatch: the metadata snapshot is damaged");
        }
        try {
            image = ClusterImage.decode(ByteBuffer.wrap(all, MAGIC.length, crcAt - MAGIC.length).slice(), version);
        } catch (RuntimeException e) {
            throw new IOException(file + ": undecodable metadata snapshot: " + e.getMessage(), e);
        }
        setLastAppliedTermIndex(snapshot.getTermIndex());
        LOG.info("{}: metadata loaded from {} ({} topics, next producer id {})", getGroupId(), file.getName(),
            image.topics().size(), image.nextProducerId());
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        ByteBuffer data = entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer();
        ClusterImage.Result r;
        try {
            r = image.apply(data);
        } catch (RuntimeException e) {
            // Not an entry any proposer of ours writes: every node meets it at the same index and stops the same way.
            LOG.error("{}: metadata entry {} does not decode", getGroupId(), entry.getIndex(), e);
            return CompletableFuture.failedFuture(e);
        }
        image = r.image();
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        wakeWaiters();
        fireHook();
        byte[] msg = r.message().getBytes(StandardCharsets.UTF_8);
        ByteBuffer reply = ByteBuffer.allocate(1 + 8 + msg.length).put(r.accepted() ? ACCEPTED : REFUSED)
            .putLong(r.value()).put(msg);
        return CompletableFuture.completedFuture(Message.valueOf(ByteString.copyFrom(reply.array())));
    }

    /** Logged (the failover timeline, docs/REPLICATION.md section 4.9): when this member learns a new leader. */
    @Override
    public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
        LOG.info("{}: metadata leader now {}", getGroupId(), newLeaderId);
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    /** On the updater thread (apply waits): the image at the last applied index, written atomically. */
    @Override
    public long takeSnapshot() throws IOException {
        TermIndex applied = getLastAppliedTermIndex();
        ClusterImage now = image;
        if (applied.getIndex() < 0) {
            return -1;
        }
        File file = storage.getSnapshotFile(applied.getTerm(), applied.getIndex());
        byte[] body = now.encode();
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + body.length + 4).put(MAGIC).put(body);
        out.putInt((int) Crc32c.compute(out.array(), 0, out.position()));
        out.flip();
        DurableFiles.writeAtomically(file.toPath(), ch -> DurableFiles.writeFully(ch, out));
        MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), applied));
        LOG.info("{}: metadata snapshot {} ({} topics)", getGroupId(), file.getName(), now.topics().size());
        return applied.getIndex();
    }
}
