/**
 * One handler per API (ApiVersions, Metadata, InitProducerId, Produce, ListOffsets, Fetch): decode the body, call
 * storage, answer through the request context. Handlers run on the connection's event-loop thread; durability
 * callbacks and fetch wake-ups arrive from the storage's flusher thread and are handed back to that loop.
 */
package io.idemlog.server.handler;
