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
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Run this host's agent in the foreground: the HTTP API, the VM state, reattaching to VMs.",
                "Logs go to stderr. SIGTERM stops the agent; its VMs keep running and the next agent reattaches."})
final class AgentCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The agent's YAML configuration.")
    Path config;

    @Option(names = "--debug", description = "Show stack traces of failures.")
    boolean debug;

    @Override
    public Integer call() throws InterruptedException {
        AgentConfig cfg;
        try {
            cfg = AgentConfig.load(config);
        } catch (ConfigException e) {
            throw new CliFailure(CliFailure.USAGE, config + ": " + e.getMessage(), e);
        }
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
}
