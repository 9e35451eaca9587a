package dev.ferry.cli;

import dev.ferry.agent.Agent;
import dev.ferry.agent.config.AgentConfig;
import dev.ferry.agent.config.ConfigException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry agent --config FILE}: runs this host's agent in the foreground until SIGTERM or Ctrl-C. */
@Command(name = "agent", mixinStandardHelpOptions = true, subcommands = AgentRepairCommand.class,
        description = {"Run this host's agent in the foreground: the HTTP API, the VM state, reattaching to VMs.",
                "Logs go to stderr. SIGTERM stops the agent; its VMs keep running and the next agent reattaches.",
                "An agent whose state database is damaged or missing refuses to start; see 'ferry agent repair --help'."})
final class AgentCommand implements Callable<Integer> {
    // Not required by picocli, so that 'ferry agent repair --config FILE' parses; call() requires it.
    @Option(names = "--config", paramLabel = "FILE", description = "The agent's YAML configuration (required).")
    Path config;

    @Option(names = "--debug", description = "Show stack traces of failures.")
    boolean debug;

    @Override
    public Integer call() throws InterruptedException {
        AgentConfig cfg = load(config);
        Agent agent;
        try {
            agent = Agent.start(cfg);
        } catch (RuntimeException e) {
            throw new CliFailure(CliFailure.AGENT_ERROR, "the agent did not start: " + e.getMessage(), e);
        }
        // The hook closes the agent (VMs keep running); the JVM exits once it returns.
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "ferry-agent-shutdown"));
        new CountDownLatch(1).await();
        return 0;
    }

    /** The configuration at {@code file}; a usage failure naming the file and the fix otherwise. */
    static AgentConfig load(Path file) {
        if (file == null) {
            throw new CliFailure(CliFailure.USAGE, "missing --config FILE: the agent's YAML configuration");
        }
        try {
            return AgentConfig.load(file);
        } catch (ConfigException e) {
            throw new CliFailure(CliFailure.USAGE, file + ": " + e.getMessage(), e);
        }
    }
}
