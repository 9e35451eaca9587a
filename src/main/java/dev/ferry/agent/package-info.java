/**
 * The per-host agent: configuration, state store, VM lifecycle service, HTTP/JSON API, events.
 * Migrations are {@link dev.ferry.migration}'s; the agent serves them and implements the ports they
 * need. This package imports {@code migration}, never the reverse.
 *
 * <p>The parts, by concern:
 * <ul>
 *   <li><b>{@code agent.config}:</b> {@link dev.ferry.agent.config.AgentConfig}, validated by
 *       {@code ConfigLoader}; the tools ({@code ToolConfig}, {@code ToolSpecs}).</li>
 *   <li><b>{@code agent.store}:</b> {@link dev.ferry.agent.store.StateStore} (SQLite, versioned schema in
 *       {@code SchemaMigration}, WAL); it is the {@link dev.ferry.migration.MigrationStore} port.</li>
 *   <li><b>{@code agent.api}:</b> {@link dev.ferry.agent.api.HttpApi}, typed requests ({@code DefineVmRequest},
 *       {@code MigrateRequest}, ...), {@code ApiErrors}, {@code ApiJson}; with TLS, {@code HttpsConnector} and
 *       the access rules of {@code ClientAccess}.</li>
 *   <li><b>This package, the host service:</b> {@link dev.ferry.agent.Agent} (which composes the parts),
 *       {@link dev.ferry.agent.AgentService} (the VM lifecycle), {@code VmTable} (records and QEMU handles),
 *       {@link dev.ferry.agent.JobLeases}, {@code Reconciler} (reattach), {@code AgentVms} (the
 *       {@link dev.ferry.migration.HostVms} port), host facts and resources, and the {@link
 *       dev.ferry.agent.EventBus} behind {@code GET /v1/events}.</li>
 * </ul>
 *
 * <p>How data flows: {@link dev.ferry.agent.Agent#start} makes its TLS contexts from the host's
 * certificate directory when {@code tls} is configured ({@code AgentTls}, refusing a directory with
 * errors), locks the data directory, opens the store,
 * reattaches to the VMs that outlived the previous agent, builds the host's {@link
 * dev.ferry.migration.Migrations} (which settle the migrations the journal shows unfinished) and
 * serves {@code HttpApi}. A request is parsed into a typed record at the edge and handed down:
 * lifecycle calls to {@code AgentService}, migration calls to {@code migration}. The real QEMU
 * runtime is chosen in exactly one place, {@link dev.ferry.agent.Agent.Parts#production};
 * {@link dev.ferry.agent.Agent#close} stops the API, the exit checks and the migrations' threads
 * in that order, then lets go of the VMs (they keep running).
 */
package dev.ferry.agent;
