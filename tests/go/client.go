// A Go client, as Go programs dial: past libc, with raw system calls, so
// no preload sees it.  It dials HOST through a SOCKS5 proxy (the proxy
// resolves the name) and DIRECT directly, writes one line on each, sends
// one datagram from a UDP socket connected to DIRECT's host, port 53 (as
// Go's own resolver does), then holds all three until the file DONE exists.
//
//	client PROXY HOST:PORT DIRECT READY DONE
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

func socks5(proxy, target string) (net.Conn, error) {
	host, portS, err := net.SplitHostPort(target)
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(portS)
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		return nil, err
	}
	req := []byte{5, 1, 0, 5, 1, 0, 3, byte(len(host))}
	req = append(req, host...)
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	if _, err := c.Write(req[:3]); err != nil {
		return nil, err
	}
	reply := make([]byte, 2)
	if _, err := io.ReadFull(c, reply); err != nil || reply[1] != 0 {
		return nil, fmt.Errorf("socks5 greeting: %v %v", reply, err)
	}
	if _, err := c.Write(req[3:]); err != nil {
		return nil, err
	}
	reply = make([]byte, 10)
	if _, err := io.ReadFull(c, reply); err != nil || reply[1] != 0 {
		return nil, fmt.Errorf("socks5 connect: %v %v", reply, err)
	}
	return c, nil
}

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: client PROXY HOST:PORT DIRECT READY DONE")
		os.Exit(2)
	}
	onion, err := socks5(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	direct, err := net.Dial("tcp", os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	host, _, _ := net.SplitHostPort(os.Args[3])
	udp, err := net.Dial("udp", net.JoinHostPort(host, "53"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	onion.Write([]byte("hello through the proxy\n"))
	direct.Write([]byte("hello directly\n"))
	udp.Write([]byte("a question\n"))
	os.WriteFile(os.Args[4], nil, 0o644)
	for {
		if _, err := os.Stat(os.Args[5]); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	onion.Close()
	direct.Close()
	udp.Close()
}
