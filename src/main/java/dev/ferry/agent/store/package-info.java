/**
 * The agent's durable state in one SQLite file ({@link dev.ferry.agent.store.StateStore}): the VMs
 * it knows ({@link dev.ferry.agent.store.VmRecord}) and the migrations' typed journal and history
 * (it is the {@link dev.ferry.migration.MigrationStore} port). The schema is versioned
 * ({@code SchemaMigration}); each step is applied once, in its own transaction, and never edited.
 * Around the file: a reserve of disk space given back when SQLite finds the disk full
 * ({@code SpaceReserve}), a soundness check at open and rotated backups ({@code StateBackups}), and
 * the restore of the newest sound backup that {@code ferry agent repair} runs
 * ({@link dev.ferry.agent.store.StateRepair}).
 */
package dev.ferry.agent.store;
