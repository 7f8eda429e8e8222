/**
 * Request and response bodies of the six APIs (ApiVersions, Metadata, InitProducerId, Produce, ListOffsets, Fetch),
 * each a plain data object with a version-aware static {@code read} and an instance {@code write}. Unknown tagged
 * fields are kept raw, so decode then encode is lossless. Records are never copied: they are views on decode and
 * holes on encode.
 */
package io.idemlog.common.protocol.message;
