package dev.ferry.vm;

import java.nio.file.Path;

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

    /** Lets go of the VM without stopping it. */
    @Override
    void close();
}
