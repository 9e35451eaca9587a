package dev.ferry.proc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cgroup v2 subtree in which contained commands run, one cgroup per run, so that everything a
 * command starts can be found and killed when it ends: a child that called {@code setsid} or was
 * double-forked leaves the process group, never the cgroup. Each cgroup is created next to this
 * JVM's own (a child of the cgroup {@code /proc/self/cgroup} names), which needs a writable,
 * delegated cgroup v2 hierarchy; {@link #host()} says why not when there is none.
 */
final class Cgroups {
    private static final Logger log = LoggerFactory.getLogger(Cgroups.class);
    /** Names of the cgroups Ferry creates: {@code ferry-tool-<jvm pid>-<n>}. */
    static final String PREFIX = "ferry-tool-";
    private static final long POLL_MILLIS = 5;
    private static final long EMPTY_LIMIT_MILLIS = 10_000;

    private static volatile Cgroups host;

    private final Path base;
    private final String unavailable;
    private final AtomicLong next = new AtomicLong();

    private Cgroups(Path base, String unavailable) {
        this.base = base;
        this.unavailable = unavailable;
    }

    /** This host's subtree, probed once per JVM. */
    static Cgroups host() {
        Cgroups h = host;
        if (h == null) {
            synchronized (Cgroups.class) {
                if (host == null) {
                    host = probe(Path.of("/proc/self/mountinfo"), Path.of("/proc/self/cgroup"));
                    if (host.available()) {
                        log.info("tools run in their own cgroup under {}", host.base);
                    } else {
                        log.warn("tools run in their own process group only: {}", host.unavailable);
                    }
                }
                h = host;
            }
        }
        return h;
    }

    boolean available() {
        return unavailable == null;
    }

    /** Why contained commands fall back to their process group; null when cgroups are available. */
    String unavailable() {
        return unavailable;
    }

    /** Creates a new, empty cgroup for one run. */
    Cgroup create() throws IOException {
        if (unavailable != null) {
            throw new IllegalStateException("Invalid use of cgroups: " + unavailable);
        }
        Path dir = base.resolve(PREFIX + ProcessHandle.current().pid() + "-" + next.incrementAndGet());
        Files.createDirectory(dir);
        return new Cgroup(dir);
    }

    /** No cgroups, for the reason given: contained commands fall back to their process group. */
    static Cgroups none(String why) {
        return new Cgroups(null, why);
    }

    static Cgroups probe(Path mountinfo, Path selfCgroup) {
        Path mount;
        String own;
        try {
            mount = cgroup2Mount(Files.readAllLines(mountinfo, StandardCharsets.UTF_8));
            own = unifiedPath(Files.readAllLines(selfCgroup, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Cgroups(null, "cannot read " + mountinfo + " or " + selfCgroup + ": " + e.getMessage());
        }
        if (mount == null || own == null) {
            return new Cgroups(null, "this host has no cgroup v2 hierarchy (mount one, or boot with"
                    + " systemd.unified_cgroup_hierarchy=1)");
        }
        Path base = own.equals("/") ? mount : mount.resolve(own.substring(1));
        Path probe = base.resolve(PREFIX + "probe-" + ProcessHandle.current().pid());
        try {
            Files.deleteIfExists(probe);
            Files.createDirectory(probe);
            boolean killable = Files.exists(probe.resolve("cgroup.procs"));
            Files.delete(probe);
            if (!killable) {
                return new Cgroups(null, base + " is not a cgroup v2 directory");
            }
        } catch (IOException e) {
            return new Cgroups(null, "cannot create a cgroup under " + base + " (" + e + "); run the agent in a"
                    + " delegated cgroup (systemd: Delegate=yes) or as root");
        }
        Cgroups found = new Cgroups(base, null);
        found.removeAbandoned();
        return found;
    }

    /** The mount point of the cgroup2 file system, from /proc/self/mountinfo lines; null when none. */
    static Path cgroup2Mount(List<String> mountinfo) {
        for (String line : mountinfo) {
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] before = line.substring(0, dash).split(" ");
            String[] after = line.substring(dash + 3).split(" ");
            if (after.length > 0 && after[0].equals("cgroup2") && before.length > 4) {
                return Path.of(before[4].replace("\\040", " "));
            }
        }
        return null;
    }

    /** This process's cgroup v2 path ({@code 0::/path}), from /proc/self/cgroup lines; null when none. */
    static String unifiedPath(List<String> selfCgroup) {
        for (String line : selfCgroup) {
            if (line.startsWith("0::")) {
                String path = line.substring(3).strip();
                // A process whose cgroup was removed under it reads "/path (deleted)": nothing to nest in.
                return path.startsWith("/") && !path.endsWith("(deleted)") ? path : null;
            }
        }
        return null;
    }

    /**
     * Removes the empty cgroups of agents that died before they could (a removal fails on a cgroup
     * that still holds processes, so nothing running is touched).
     */
    private void removeAbandoned() {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(base, PREFIX + "*")) {
            for (Path dir : dirs) {
                String[] parts = dir.getFileName().toString().substring(PREFIX.length()).split("-");
                if (parts.length == 2 && parts[0].matches("\\d+") && !Processes.isAlive(Long.parseLong(parts[0]))) {
                    try {
                        Files.delete(dir);
                    } catch (IOException e) {
                        log.debug("cgroup {} of a stopped agent is still in use: {}", dir, e.toString());
                    }
                }
            }
        } catch (IOException e) {
            log.debug("cannot list {}: {}", base, e.toString());
        }
    }

    /** One run's cgroup. */
    static final class Cgroup {
        private final Path dir;

        Cgroup(Path dir) {
            this.dir = dir;
        }

        /** The file a process writes its pid into to join. */
        Path procs() {
            return dir.resolve("cgroup.procs");
        }

        /**
         * Kills every process in the cgroup with SIGKILL, waits until it is empty and removes it.
         * Returns false (and leaves it) when it does not empty in time.
         */
        boolean killAndRemove() throws InterruptedException {
            long deadline = System.nanoTime() + EMPTY_LIMIT_MILLIS * 1_000_000;
            while (true) {
                killAll();
                if (remove()) {
                    return true;
                }
                if (System.nanoTime() > deadline) {
                    log.warn("cgroup {} still holds processes {}; left in place", dir, pids());
                    return false;
                }
                // Killed processes leave the cgroup only once the kernel has torn them down.
                Thread.sleep(POLL_MILLIS);
            }
        }

        /**
         * Sends SIGKILL to every process in the cgroup: at once through {@code cgroup.kill} (Linux
         * 5.14 and later), else pid by pid, which a process forking at that instant may outrun
         * (so {@link #killAndRemove} repeats it until the cgroup is empty).
         */
        void killAll() {
            Path kill = dir.resolve("cgroup.kill");
            if (Files.exists(kill)) {
                write(kill, "1");
            } else {
                pids().forEach(Cgroup::killQuietly);
            }
        }

        /** The pids in the cgroup now. */
        List<Long> pids() {
            try {
                return Files.readAllLines(procs()).stream().map(String::strip).filter(s -> !s.isEmpty())
                        .map(Long::parseLong).toList();
            } catch (IOException e) {
                return List.of();
            }
        }

        private boolean remove() {
            if (!pids().isEmpty()) {
                return false;
            }
            try {
                Files.deleteIfExists(dir);
                return true;
            } catch (IOException e) {
                // EBUSY until the last process is fully gone.
                return false;
            }
        }

        private static void killQuietly(long pid) {
            if (pid > 1 && pid != ProcessHandle.current().pid()) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }

        private static void write(Path file, String value) {
            try {
                Files.writeString(file, value);
            } catch (IOException e) {
                log.debug("cannot write {}: {}", file, e.toString());
            }
        }

        @Override
        public String toString() {
            return dir.toString();
        }
    }
}
