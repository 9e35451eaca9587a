package dev.ferry.vm;

import dev.ferry.qmp.QmpClient;

import java.nio.file.Path;
import java.util.function.Consumer;

/** Control of one running QEMU process. Closing the handle lets go of it; the VM keeps running. */
public interface VmHandle extends AutoCloseable {
    String name();

    /** The state as QEMU reports it now: RUNNING, PAUSED, or STOPPED/CRASHED once QEMU is gone. */
    VmState state() throws VmException;

    void pause() throws VmException;

    void resume() throws VmException;

    /** Asks the guest to power off; after {@code grace}, tells QEMU to quit. Cleans the run directory. */
    void stop(java.time.Duration grace) throws VmException;

    /** Ends QEMU at once (the guest gets no say) and cleans the run directory. */
    void destroy() throws VmException;

    boolean isAlive();

    long pid();

    Path runDir();

    Path serialLog();

    /**
     * The QMP connection to this VM's QEMU, for callers that drive QEMU directly (migration, block
     * jobs). Closed when the handle is closed or QEMU exits.
     */
    default QmpClient qmp() {
        throw new UnsupportedOperationException("vm '" + name() + "': this handle gives no QMP access");
    }

    /**
     * Calls {@code listener} once, from a watcher thread, when QEMU exits while this handle holds
     * it: with STOPPED when the exit was asked for (stop, destroy, the guest powering off) and
     * CRASHED otherwise. Not called after {@link #close()}.
     */
    default void onExit(Consumer<VmState> listener) {
        throw new UnsupportedOperationException("vm '" + name() + "': this handle does not report QEMU's exit");
    }

    /** Lets go of the VM without stopping it. */
    @Override
    void close();
}
