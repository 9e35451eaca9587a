package dev.ferry.proc;

/** What ends the processes a command started when the command itself ends. */
public enum Containment {
    /** Nothing: the command's children may outlive it (daemons that detach on purpose). */
    NONE,
    /** Its own cgroup v2, killed whole at the end: no child escapes, whatever it does. */
    CGROUP,
    /**
     * Its process group only, killed at the end, on hosts without a usable cgroup v2: a child that
     * left the group ({@code setsid}, a daemon) outlives the command.
     */
    PROCESS_GROUP;
}
