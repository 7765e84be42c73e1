// A Go program fetching over Tor, as Go nodes do: its own SOCKS5 client
// over raw system calls, so no preload sees it.  For each URL it dials
// the SOCKS proxy (the proxy resolves the name), sends one HTTP/1.1 GET
// and reads the whole answer, all at once in parallel; then it writes
// READY, holds every connection open until the file DONE exists, and
// closes them.  It prints, per URL, the body bytes it read.
//
//	fetch PROXY READY DONE URL...
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"
)

func socks5(proxy, host string, port int) (net.Conn, error) {
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte{5, 1, 0}); err != nil {
		return nil, err
	}
	reply := make([]byte, 2)
	if _, err := io.ReadFull(c, reply); err != nil || reply[1] != 0 {
		return nil, fmt.Errorf("socks5 greeting: %v %v", reply, err)
	}
	req := []byte{5, 1, 0, 3, byte(len(host))}
	req = append(req, host...)
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	reply = make([]byte, 10)
	if _, err := io.ReadFull(c, reply); err != nil || reply[1] != 0 {
		return nil, fmt.Errorf("socks5 connect to %s: reply %v %v", host, reply, err)
	}
	return c, nil
}

func fetch(proxy, raw string) (net.Conn, int64, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, 0, err
	}
	port := 80
	if u.Port() != "" {
		port, _ = strconv.Atoi(u.Port())
	}
	c, err := socks5(proxy, u.Hostname(), port)
	if err != nil {
		return nil, 0, err
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", u.RequestURI(), u.Host)
	r := bufio.NewReader(c)
	length := int64(-1)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, 0, err
		}
		if line == "\r\n" {
			break
		}
		var n int64
		if _, err := fmt.Sscanf(line, "Content-Length: %d", &n); err == nil {
			length = n
		}
	}
	if length < 0 {
		return nil, 0, fmt.Errorf("%s: no Content-Length", raw)
	}
	n, err := io.CopyN(io.Discard, r, length)
	return c, n, err
}

func main() {
	if len(os.Args) < 5 {
		fmt.Fprintln(os.Stderr, "usage: fetch PROXY READY DONE URL...")
		os.Exit(2)
	}
	urls := os.Args[4:]
	conns := make([]net.Conn, len(urls))
	got := make([]int64, len(urls))
	errs := make([]error, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func(i int, u string) {
			defer wg.Done()
			conns[i], got[i], errs[i] = fetch(os.Args[1], u)
		}(i, u)
	}
	wg.Wait()
	failed := false
	for i, u := range urls {
		if errs[i] != nil {
			fmt.Fprintln(os.Stderr, u, errs[i])
			failed = true
		}
		fmt.Println(u, got[i])
	}
	os.WriteFile(os.Args[2], nil, 0o644)
	for {
		if _, err := os.Stat(os.Args[3]); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	if failed {
		os.Exit(1)
	}
}
