package io.idemlog.spike.ratis;

import org.agrona.concurrent.SystemEpochClock;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;

import java.io.File;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * SPIKE: one node (a child JVM): a Ratis server (gRPC) hosting one {@link PartitionStateMachine} per partition
 * group. Arguments, all required except the properties:
 * {@code <id> <port> <dir> <mode> <partitions> <peers> [ratis.key=value ...]}, peers as in
 * {@link SpikeGroups#peers}. Groups already in {@code dir} are recovered (Ratis scans its storage dir); missing ones
 * are added (formatted empty). Prints {@code SPIKE-NODE-READY} once serving; SIGTERM closes it cleanly.
 */
public final class SpikeNode {
    static final String READY = "SPIKE-NODE-READY";

    private SpikeNode() {
    }

    public static void main(String[] args) throws Exception {
        RaftPeerId id = RaftPeerId.valueOf(args[0]);
        int port = Integer.parseInt(args[1]);
        File dir = new File(args[2]);
        Mode mode = Mode.valueOf(args[3]);
        int partitions = Integer.parseInt(args[4]);
        List<RaftPeer> peers = SpikeGroups.peers(args[5]);

        RaftProperties props = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(props, List.of(dir));
        GrpcConfigKeys.Server.setHost(props, "127.0.0.1");
        GrpcConfigKeys.Server.setPort(props, port);
        for (int i = 6; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            props.set(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        RaftServer server = RaftServer.newBuilder()
            .setServerId(id)
            .setProperties(props)
            .setOption(RaftStorage.StartupOption.RECOVER)
            .setStateMachineRegistry(groupId -> new PartitionStateMachine(mode, SystemEpochClock.INSTANCE))
            .build();
        server.start();
        Set<RaftGroupId> existing = new HashSet<>();
        server.getGroupIds().forEach(existing::add);
        long callId = 1;
        for (int p = 0; p < partitions; p++) {
            RaftGroup group = SpikeGroups.group(p, peers);
            if (!existing.contains(group.getGroupId())) {
                RaftClientReply reply = server.groupManagement(
                    GroupManagementRequest.newAdd(ClientId.randomId(), id, callId++, group));
                if (!reply.isSuccess()) {
                    throw new IllegalStateException("cannot add " + group + ": " + reply.getException());
                }
            }
        }
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                e.printStackTrace();
            }
            closed.countDown();
        }, "spike-node-close"));
        System.out.println(READY + " " + id + " port=" + port + " mode=" + mode + " partitions=" + partitions
            + " recovered=" + existing.size());
        System.out.flush();
        closed.await();
    }
}
