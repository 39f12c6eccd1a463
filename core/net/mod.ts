/**
 * berth networking building blocks: IPv4/CIDR math and IPAM (persisted
 * leases, subnet pools), published-port specs and formats, host port
 * reservations, firewall rule generation (iptables-restore) and its
 * application, bridges/veths through batched iproute2, /etc/hosts and
 * resolv.conf generation, and the embedded DNS server (dns/).
 *
 * Pure modules: ipv4.ts, ipam.ts (LeaseTable, allocateSubnet), ports.ts,
 * firewall.ts, etc_files.ts, dns/packet.ts, dns/resolver.ts.
 * Effects: firewall_linux.ts, link_linux.ts, host_ports.ts, dns/server_linux.ts.
 * @module
 */
export * from "./ipv4.ts";
export * from "./ipam.ts";
export * from "./ports.ts";
export * from "./firewall.ts";
export * from "./etc_files.ts";
export { Firewall, FirewallError, runCmd } from "./firewall_linux.ts";
export * from "./link_linux.ts";
export * from "./host_ports.ts";
export * from "./dns/packet.ts";
export * from "./dns/resolver.ts";
export * from "./dns/responder.ts";
export { DNS_IP, EmbeddedDns } from "./dns/server_linux.ts";
