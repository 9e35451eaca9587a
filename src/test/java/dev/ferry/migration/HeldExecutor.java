package dev.ferry.migration;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;

/** An executor that keeps what it is given until the test runs it, on the test's own thread. */
final class HeldExecutor extends AbstractExecutorService {
    private final List<Runnable> held = new ArrayList<>();
    private boolean shutdown;

    /** Runs everything held so far, in order. */
    void runAll() {
        List<Runnable> now;
        synchronized (this) {
            now = List.copyOf(held);
            held.clear();
        }
        now.forEach(Runnable::run);
    }

    synchronized int held() {
        return held.size();
    }

    @Override
    public synchronized void execute(Runnable command) {
        held.add(command);
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> left = List.copyOf(held);
        held.clear();
        return left;
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public synchronized boolean isTerminated() {
        return shutdown && held.isEmpty();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return isTerminated();
    }
}
