/**
 * The agent's configuration: {@link dev.ferry.agent.config.AgentConfig#load} reads the YAML file,
 * {@code ConfigLoader} checks every key (unknown keys, types, executables on the path) and names
 * the key and the fix on a mistake; the migration tools by device type or kind become
 * {@link dev.ferry.device.ToolSpec}s through {@link dev.ferry.agent.config.ToolSpecs}.
 */
package dev.ferry.agent.config;
