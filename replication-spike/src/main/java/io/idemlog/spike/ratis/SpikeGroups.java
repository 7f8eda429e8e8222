package io.idemlog.spike.ratis;

import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Group ids and peers, computed the same way by the driver and every node: partition {@code i} is the Raft group
 * with the name-based UUID of "idemlog-spike-partition-i".
 */
final class SpikeGroups {
    private SpikeGroups() {
    }

    static RaftGroupId groupId(int partition) {
        return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(("idemlog-spike-partition-" + partition)
            .getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Peers from {@code "n1=raftAddress|clientAddress,n2=..."}: the Raft address (a link proxy's port when
     * the partition test interposes one) is what the servers dial each other on; clients and admin calls use the
     * node's own port.
     */
    static List<RaftPeer> peers(String spec) {
        List<RaftPeer> peers = new ArrayList<>();
        for (String part : spec.split(",")) {
            int eq = part.indexOf('=');
            String id = part.substring(0, eq);
            String[] addresses = part.substring(eq + 1).split("\\|");
            String raft = addresses[0];
            String client = addresses.length > 1 ? addresses[1] : raft;
            peers.add(RaftPeer.newBuilder().setId(id).setAddress(raft).setClientAddress(client)
                .setAdminAddress(client).build());
        }
        return peers;
    }

    static RaftGroup group(int partition, List<RaftPeer> peers) {
        return RaftGroup.valueOf(groupId(partition), peers);
    }
}
