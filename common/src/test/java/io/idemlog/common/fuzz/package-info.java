/**
 * Coverage-guided fuzz tests (Jazzer): the request decoders of every API and version, the record-batch reader.
 * In the normal build each target runs its committed corpus (src/test/resources/.../&lt;Class&gt;Inputs/&lt;method&gt;)
 * as a regression test; with JAZZER_FUZZ=1 one target is fuzzed (docs/BENCHMARKS.md, "Fuzzing"). Every input must
 * end in a decoded message or a {@link io.idemlog.common.protocol.ProtocolException}; anything else is a finding.
 */
package io.idemlog.common.fuzz;
