// Command ecsconfig applies Go's standard library to ecs.config inputs the way ecs-init and
// the ECS agent use it, for ebami's differential test (tests/functional/test_ecsconfig_go.py).
//
// It reads one JSON request per line on stdin and answers each with one JSON line on stdout,
// at once, so that a test keeps one process for thousands of cases:
//
//	{"file": "<base64>"}   -> {"pairs": [["<base64 key>", "<base64 value>"], ...]}
//	    the file trimmed with strings.TrimSpace, split on "\n", each line trimmed with
//	    strings.TrimSpace and split with strings.SplitN(line, "=", 2); lines without "=" skipped.
//	{"value": "<base64>"}  -> {"syntax_ok": bool, "names": ["<base64>", ...] or null}
//	    json.NewDecoder(strings.NewReader(value)).Decode(&names) into a slice of a string type:
//	    syntax_ok is false when Decode fails other than with a type mismatch (a syntax error,
//	    io.EOF for a blank value, the depth limit); names is the slice as Decode left it.
//
// Written for ebami; it relies on the documented behaviour of the standard library only.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
)

type loggingDriver string

type request struct {
	File  *string `json:"file"`
	Value *string `json:"value"`
}

type answer struct {
	Pairs    [][2]string `json:"pairs"`
	SyntaxOK *bool       `json:"syntax_ok"`
	Names    []string    `json:"names"`
}

func decode(text string) []byte {
	data, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		panic(err)
	}
	return data
}

func encode(data string) string {
	return base64.StdEncoding.EncodeToString([]byte(data))
}

func splitFile(content string) [][2]string {
	pairs := [][2]string{}
	for _, line := range strings.Split(strings.TrimSpace(content), "\n") {
		parts := strings.SplitN(strings.TrimSpace(line), "=", 2)
		if len(parts) != 2 {
			continue
		}
		pairs = append(pairs, [2]string{encode(parts[0]), encode(parts[1])})
	}
	return pairs
}

func decodeValue(value string) (bool, []string) {
	var drivers []loggingDriver
	err := json.NewDecoder(strings.NewReader(value)).Decode(&drivers)
	var mismatch *json.UnmarshalTypeError
	ok := err == nil || errors.As(err, &mismatch)
	if drivers == nil {
		return ok, nil
	}
	names := make([]string, len(drivers))
	for i, name := range drivers {
		names[i] = encode(string(name))
	}
	return ok, names
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	encoder := json.NewEncoder(out)
	for in.Scan() {
		var item request
		if err := json.Unmarshal(in.Bytes(), &item); err != nil {
			panic(err)
		}
		var result answer
		switch {
		case item.File != nil:
			result.Pairs = splitFile(string(decode(*item.File)))
		case item.Value != nil:
			ok, names := decodeValue(string(decode(*item.Value)))
			result.SyntaxOK, result.Names = &ok, names
		default:
			panic("a request has neither file nor value")
		}
		if err := encoder.Encode(result); err != nil {
			panic(err)
		}
		if err := out.Flush(); err != nil {
			panic(err)
		}
	}
	if err := in.Err(); err != nil {
		panic(err)
	}
}
