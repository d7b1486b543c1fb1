// Command trivialserver is the loopback endpoint scripts/bench_loadgen.sh
// measures load generators against: it answers every request 200 with a
// two-byte body and does nothing else, so that the generator is the only
// thing being measured. It is not the reference target (runners/target).
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "trivialserver:", err)
		os.Exit(1)
	}
	fmt.Println("http://" + ln.Addr().String())
	body := []byte("{}")
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	fmt.Fprintln(os.Stderr, "trivialserver:", err)
	os.Exit(1)
}
