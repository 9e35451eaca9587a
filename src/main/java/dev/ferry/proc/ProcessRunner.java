package dev.ferry.proc;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts processes: argv only (never a shell), a clean environment, bounded capture of both
 * streams, and a timeout that kills the child's whole process group, so grandchildren die too. A
 * {@linkplain Command#containChildren() contained} command also runs in a cgroup of its own, and
 * everything in it is killed when the command ends.
 * The one place in Ferry that starts processes; thread-safe, share one instance.
 */
public final class ProcessRunner {
    private static final Logger log = LoggerFactory.getLogger(ProcessRunner.class);

    /** Writes the launcher's own pid into the cgroup named by $0, then becomes the command. */
    private static final String JOIN_THEN_EXEC = "echo $$ > \"$0\" && exec \"$@\"";
    private static final String SHELL = "/bin/sh";

    private final ScheduledThreadPoolExecutor watchdogs;
    private final Cgroups cgroups;
    private final ProcessObserver observer;

    public ProcessRunner() {
        this(null, ProcessObserver.NONE);
    }

    /** A runner that lets {@code observer} see (and extend) every command and how each process ended. */
    public ProcessRunner(ProcessObserver observer) {
        this(null, observer);
    }

    /** A runner that contains commands in {@code cgroups}; null: this host's, probed when first needed. */
    ProcessRunner(Cgroups cgroups) {
        this(cgroups, ProcessObserver.NONE);
    }

    private ProcessRunner(Cgroups cgroups, ProcessObserver observer) {
        this.cgroups = cgroups;
        this.observer = observer;
        watchdogs = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "proc-timeouts");
            thread.setDaemon(true);
            return thread;
        });
        watchdogs.setRemoveOnCancelPolicy(true);
        // An idle runner holds no thread, so creating runners freely costs nothing.
        watchdogs.setKeepAliveTime(10, TimeUnit.SECONDS);
        watchdogs.allowCoreThreadTimeOut(true);
    }

    /**
     * Runs {@code command} to its end (or its timeout). A non-zero exit is not an exception: look
     * at {@link ProcResult#ok()}. If the calling thread is interrupted, the process group is killed.
     *
     * @throws IOException when the program or working directory does not exist or cannot be started
     */
    public ProcResult run(Command command) throws IOException, InterruptedException {
        RunningProcess process = start(command);
        try {
            return process.await();
        } catch (InterruptedException e) {
            process.kill();
            throw e;
        }
    }

    /** Starts {@code command} and returns at once; its timeout, if any, is enforced in the background. */
    public RunningProcess start(Command requested) throws IOException {
        Command command = observer.starting(requested);
        String path = command.env().getOrDefault("PATH", Command.BASE_PATH);
        checkRunnable(command, path);
        Cgroups tree = !command.contained() ? null : cgroups != null ? cgroups : Cgroups.host();
        Cgroups.Cgroup cgroup = tree != null && tree.available() ? tree.create() : null;
        List<String> argv = new ArrayList<>(command.argv().size() + 6);
        if (cgroup != null) {
            // The launcher joins the cgroup before anything of the command runs, so no child can be
            // forked outside it. The command's argv reaches exec as "$@", never parsed by the shell.
            argv.addAll(List.of(SHELL, "-c", JOIN_THEN_EXEC, cgroup.procs().toString()));
        }
        // setsid execs in place (a forked JVM child is never a group leader), so pid == pgid.
        argv.add(ProcessGroups.setsid());
        argv.addAll(command.argv());
        ProcessBuilder builder = new ProcessBuilder(argv);
        Map<String, String> env = builder.environment();
        env.clear();
        env.put("PATH", Command.BASE_PATH);
        env.put("LANG", "C.UTF-8");
        String home = System.getenv("HOME");
        if (home != null) {
            env.put("HOME", home);
        }
        env.putAll(command.env());
        if (command.workDir() != null) {
            builder.directory(command.workDir().toFile());
        }
        if (command.stdin() == null) {
            builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        Process process;
        try {
            process = builder.start();
        } catch (IOException | RuntimeException e) {
            if (cgroup != null) {
                removeQuietly(cgroup);
            }
            throw e;
        }
        log.debug("started pid {}: {}", process.pid(), command.argv());
        Containment containment = !command.contained() ? Containment.NONE
                : cgroup != null ? Containment.CGROUP : Containment.PROCESS_GROUP;
        return new RunningProcess(command, process, watchdogs, containment, cgroup, observer);
    }

    private static void removeQuietly(Cgroups.Cgroup cgroup) {
        try {
            cgroup.killAndRemove();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void checkRunnable(Command command, String path) throws IOException {
        Path dir = command.workDir();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new IOException("cannot run " + command.program() + ": working directory " + dir + " does not exist");
        }
        String program = command.program();
        if (program.contains("/")) {
            Path file = dir == null ? Path.of(program) : dir.resolve(program);
            if (!Files.isRegularFile(file) || !Files.isExecutable(file)) {
                throw new IOException("cannot run " + program + ": no executable file at that path");
            }
            return;
        }
        for (String entry : path.split(":")) {
            if (!entry.isEmpty() && Files.isExecutable(Path.of(entry, program))) {
                return;
            }
        }
        throw new IOException("cannot run " + program + ": not found in PATH " + path
                + "; install it or give its absolute path");
    }
}
