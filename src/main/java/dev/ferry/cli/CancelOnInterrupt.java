package dev.ferry.cli;

import dev.ferry.migration.MigrationStatus;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C (or SIGTERM) while {@code ferry migrate} follows a migration: the migration is cancelled,
 * not left running unseen. The JVM runs this as a shutdown hook; it asks the agent to cancel, says
 * so, and keeps the process alive while the command's own thread follows the rollback to its end
 * and prints the report, then exits with {@link #INTERRUPTED} (or the report's code when the cancel
 * came too late and the migration completed).
 */
final class CancelOnInterrupt implements AutoCloseable {
    /** The exit code of a migration that Ctrl-C cancelled: 128 + SIGINT, as a shell reports it. */
    static final int INTERRUPTED = 130;
    /** How long the interrupted command waits for the rollback to end before it leaves it to the agent. */
    private static final Duration ROLLBACK_PATIENCE = Duration.ofMinutes(5);

    private final AgentClient client;
    private final String id;
    private final PrintWriter err;
    private final Thread hook;
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile boolean cancelAsked;
    private volatile int exitCode = CliFailure.AGENT_ERROR;

    private CancelOnInterrupt(AgentClient client, String id, PrintWriter err) {
        this.client = client;
        this.id = id;
        this.err = err;
        this.hook = new Thread(this::interrupted, "ferry-cancel-on-interrupt");
    }

    /** Cancels migration {@code id} if the process is told to stop before {@link #close}. */
    static CancelOnInterrupt install(AgentClient client, String id, PrintWriter err) {
        CancelOnInterrupt guard = new CancelOnInterrupt(client, id, err);
        Runtime.getRuntime().addShutdownHook(guard.hook);
        return guard;
    }

    /** Whether the process was interrupted and the cancel asked. */
    boolean cancelAsked() {
        return cancelAsked;
    }

    /** The command's exit code, once it printed the end: the interrupted process exits with it. */
    void finished(int code) {
        exitCode = code;
        finished.countDown();
    }

    @Override
    public void close() {
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or ran: it ends the process itself.
        }
    }

    private void interrupted() {
        if (finished.getCount() == 0) {
            return;
        }
        cancelAsked = true;
        err.println("ferry: interrupted: cancelling migration " + id + "; the VM stays where it was");
        err.flush();
        try {
            MigrationStatus m = client.post("/v1/migrations/" + ClientCommand.path(id) + "/cancel", null)
                    .as(MigrationStatus.class);
            err.println("ferry: cancel asked during " + m.phase() + "; waiting for the rollback to end");
        } catch (CliFailure e) {
            err.println("ferry: the agent refused the cancel: " + e.getMessage() + "; following the migration to its end");
        }
        err.flush();
        try {
            if (!finished.await(ROLLBACK_PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
                err.println("ferry: migration " + id + " had not ended after " + ROLLBACK_PATIENCE.toMinutes()
                        + " min; the agent goes on with it: 'ferry migration show " + id + "'");
                err.flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Runtime.getRuntime().halt(exitCode);
    }
}
