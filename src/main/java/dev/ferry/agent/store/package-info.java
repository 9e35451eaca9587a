/**
 * The agent's durable state in one SQLite file ({@link dev.ferry.agent.store.StateStore}): the VMs
 * it knows ({@link dev.ferry.agent.store.VmRecord}) and the migrations' typed journal and history
 * (it is the {@link dev.ferry.migration.MigrationStore} port). The schema is versioned
 * ({@code SchemaMigration}); each step is applied once, in its own transaction, and never edited.
 */
package dev.ferry.agent.store;
