package dev.ferry.agent.api;

/**
 * Body of {@code POST /v1/vms}: {@code {"spec": "<yaml text>", "baseDir": "/abs/dir"}}.
 * Relative paths in the spec resolve against {@code baseDir} (the CLI sends the spec file's
 * directory); without it they resolve against the agent's data directory.
 */
public record DefineVmRequest(String spec, String baseDir) {}
