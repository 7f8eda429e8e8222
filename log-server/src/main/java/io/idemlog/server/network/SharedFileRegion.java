package io.idemlog.server.network;

import io.netty.channel.DefaultFileRegion;

import java.nio.channels.FileChannel;

/**
 * A {@link DefaultFileRegion} over a channel the log owns: released without closing the channel. It stays a
 * DefaultFileRegion on purpose: Netty's epoll transport sends exactly that class with sendfile(2), and the NIO
 * transport's FileChannel.transferTo to a socket does the same; any other FileRegion would be copied through a
 * buffer.
 */
final class SharedFileRegion extends DefaultFileRegion {
    SharedFileRegion(FileChannel channel, long position, long count) {
        super(channel, position, count);
    }

    @Override
    protected void deallocate() {
        // The segment's channel belongs to the log (closed when the segment is deleted), not to this send.
    }
}
