#pragma once

// The "external" driver type: registration with the driver registry, and the reading of its
// configuration section (adapters/external/external.xsd).

#include "external_endpoint.h"

#include "switchboard/channel_driver.h"
#include "switchboard/log.h"

namespace switchboard::external {

/// Reads the options of an <external> section: name, key (a secret: key, keyFile or keyEnv),
/// media, commandTimeout, heartbeatTimeout, maxMessageBytes. Throws SettingError naming the
/// file, line and setting.
ExternalOptions readOptions(const DriverSection& section, const std::string& serverId);

/// Registers the "external" driver type. Each driver it creates makes itself reachable at
/// `endpoint` while started. `endpoint` and `logger` must outlive the drivers.
void registerExternalDriver(DriverRegistry& registry, ExternalEndpoint& endpoint, Logger& logger);

} // namespace switchboard::external
