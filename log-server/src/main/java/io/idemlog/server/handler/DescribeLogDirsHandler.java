package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.DescribeLogDirsRequest;
import io.idemlog.common.protocol.message.DescribeLogDirsResponse;
import io.idemlog.server.log.Partition;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * DescribeLogDirs: the data directory (log.dirs) as the one log directory, with every partition asked for (all of
 * them for a null topic list) and its size in bytes (its segment files), offset_lag 0 (no replica can lag: there is
 * one) and is_future_key false (no AlterReplicaLogDirs). A topic or partition that does not exist is left out, as
 * Kafka does. v4: the file store's total and usable bytes (-1 each when the file store cannot be asked: the sizes
 * are still answered). Runs on the storage-io thread: asking the file store is a system call on the disk.
 */
final class DescribeLogDirsHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DescribeLogDirsHandler.class);

    private final BrokerContext broker;

    DescribeLogDirsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.DESCRIBE_LOG_DIRS);
        DescribeLogDirsRequest req = DescribeLogDirsRequest.read(body, ctx.version);
        broker.runBlocking(ctx, "describe log dirs", () -> ctx.respond(describe(req, ctx.version)));
    }

    private DescribeLogDirsResponse describe(DescribeLogDirsRequest req, short version) {
        Path dataDir = broker.config().dataDir;
        DescribeLogDirsResponse.Result dir = new DescribeLogDirsResponse.Result();
        dir.errorCode = ErrorCode.NONE.code;
        dir.logDir = dataDir.toString();
        Map<String, int[]> wanted = new LinkedHashMap<>();
        if (req.topics == null) {
            broker.logs().topics().forEach((name, count) -> {
                int[] all = new int[count];
                for (int i = 0; i < count; i++) {
                    all[i] = i;
                }
                wanted.put(name, all);
            });
        } else {
            for (DescribeLogDirsRequest.Topic t : req.topics) {
                wanted.merge(t.topic, t.partitions, DescribeLogDirsHandler::concat);
            }
        }
        for (Map.Entry<String, int[]> e : wanted.entrySet()) {
            DescribeLogDirsResponse.Topic rt = null;
            java.util.BitSet seen = new java.util.BitSet();
            for (int index : e.getValue()) {
                Partition p = broker.logs().partition(e.getKey(), index);
                if (p == null || seen.get(index)) {
                    continue;
                }
                seen.set(index);
                if (rt == null) {
                    rt = new DescribeLogDirsResponse.Topic();
                    rt.name = e.getKey();
                    dir.topics.add(rt);
                }
                DescribeLogDirsResponse.Partition rp = new DescribeLogDirsResponse.Partition();
                rp.partitionIndex = index;
                rp.partitionSize = p.sizeInBytes();
                rt.partitions.add(rp);
            }
        }
        if (version >= 4) {
            try {
                FileStore store = Files.getFileStore(dataDir);
                dir.totalBytes = store.getTotalSpace();
                dir.usableBytes = store.getUsableSpace();
            } catch (IOException e) {
                LOG.warn("cannot read the size of the file store of {}", dataDir, e);
            }
        }
        DescribeLogDirsResponse rsp = new DescribeLogDirsResponse();
        rsp.results.add(dir);
        return rsp;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
