/**
 * The per-host agent: configuration, state store, VM lifecycle service, HTTP/JSON API, events.
 *
 * <p>How data flows: {@link dev.ferry.agent.AgentConfig#load} validates the YAML configuration;
 * {@link dev.ferry.agent.Agent#start} locks the data directory, opens the {@link
 * dev.ferry.agent.StateStore} (SQLite, versioned schema, WAL), reattaches to the VMs that outlived
 * the previous agent ({@code Reconciler}), and serves {@code HttpApi}. An HTTP request is parsed
 * into a typed record at the edge and handed to {@link dev.ferry.agent.AgentService}, which takes
 * the VM's lease ({@link dev.ferry.agent.JobLeases}), checks the transition, records the new state
 * in the store and then acts through {@link dev.ferry.vm.VmHost}; every recorded change is
 * published on the {@link dev.ferry.agent.EventBus}, which feeds {@code GET /v1/events}.
 * Failures are {@link dev.ferry.agent.AgentException}s whose kind {@code ApiErrors} maps to a status.
 *
 * <p>The real QEMU runtime is chosen in exactly one place, {@link dev.ferry.agent.Agent.Parts#production}.
 */
package dev.ferry.agent;
