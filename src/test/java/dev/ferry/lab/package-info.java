/**
 * The test lab: one fixture for every integration test and benchmark that needs real agents.
 *
 * <p>A {@link dev.ferry.lab.Lab} starts N {@link dev.ferry.lab.LabAgent}s under one root directory
 * (a test's {@code @TempDir}), with certificates of one cluster CA (mutual TLS on the API and on
 * QEMU's streams) unless built {@code plain()}, in the test's JVM or as {@code ferry agent} processes that can be
 * killed and restarted, each the peer of every other, optionally through a
 * {@link dev.ferry.lab.LinkProxy} that can cut the link or hold a peer request or its answer. The
 * lab writes each agent's configuration file and loads it in one place, so main code moving does
 * not ripple through the tests. A {@link dev.ferry.lab.FakeTool} is the migration tool of the
 * guest's {@code external} device, told per step to succeed, fail, hang or hold; a
 * {@link dev.ferry.lab.XendDispatcher} is a xen-dialect tool built as Xen's dispatcher and its
 * per-class companions are, logging every call. A
 * {@link dev.ferry.lab.QemuHold} is an agent's QEMU as a wrapper that can keep the agent inside an
 * incoming start, after the incoming QEMU runs and before the agent goes on.
 * {@link dev.ferry.lab.TestGuest} builds the real test guest's spec and waits for it to boot, and
 * {@link dev.ferry.lab.Api} talks to an agent over HTTP, waiting with Awaitility instead of sleeping.
 * {@link dev.ferry.lab.RecordingRelay} is a TCP relay put on a QEMU stream that notes which markers
 * passed through it in clear. {@link dev.ferry.lab.MatrixGuest} is the one guest the fault matrix and the crash harness bounce
 * between two hosts, and {@link dev.ferry.lab.Invariants} what both check after every migration.
 *
 * <p>Data flows one way: a test drives agents through {@link dev.ferry.lab.Api} only, and reads
 * what the guest saw from its serial log; the lab uses no class of the agent's but
 * {@code Agent} and {@code AgentConfig}.
 */
package dev.ferry.lab;
