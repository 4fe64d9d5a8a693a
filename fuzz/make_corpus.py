#!/usr/bin/env python3
"""Writes the seed corpus under fuzz/corpus/<target>/ from the tests' real captures
(tests/unit/data/pg: pgoutput messages and a COPY stream from PostgreSQL 15), the packaged example
configs, and small hand-written inputs in the formats the targets read. Run once when the inputs
change; the corpus is committed. Findings are added by hand (fuzz/README.md)."""
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def put(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data.encode() if isinstance(data, str) else data)


def hex_lines(path):
    for line in (ROOT / path).read_text().splitlines():
        if line and not line.startswith("#"):
            yield line


# pgoutput: one file per distinct message kind and capture flavour (binary and text values).
for flavour in ("binary", "text"):
    seen = {}
    for line in hex_lines(f"tests/unit/data/pg/pgoutput_v1_{flavour}.hex"):
        payload = bytes.fromhex(line.split()[2])
        kind = chr(payload[0])
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= 3:
            put("pgoutput_fuzz", f"{flavour}_{kind}_{seen[kind]}", payload)

# pgoutput protocol 2 (streaming): the four stream control messages, and the captured changes as
# they appear inside a stream block (the xid right after the tag).
put("pgoutput_fuzz", "stream_S", b"S" + struct.pack(">IB", 731, 1))
put("pgoutput_fuzz", "stream_E", b"E")
put("pgoutput_fuzz", "stream_c", b"c" + struct.pack(">IBQQq", 731, 0, 0x16B3748, 0x16B3778, 786000000000000))
put("pgoutput_fuzz", "stream_A", b"A" + struct.pack(">II", 731, 732))
streamed = {}
for line in hex_lines("tests/unit/data/pg/pgoutput_v1_binary.hex"):
    payload = bytes.fromhex(line.split()[2])
    kind = chr(payload[0])
    if kind in "RYIUDTM" and kind not in streamed:
        streamed[kind] = True
        put("pgoutput_fuzz", f"streamed_{kind}", payload[:1] + struct.pack(">I", 731) + payload[1:])

# COPY binary: the captured stream whole, in 7-byte chunks, and with the field count given.
copy = bytes.fromhex("".join(hex_lines("tests/unit/data/pg/items_copy_binary.hex")))
put("copy_binary_fuzz", "items_whole", b"\x00" + copy)
put("copy_binary_fuzz", "items_chunks_7", b"\x07" + copy)
put("copy_binary_fuzz", "items_chunks_1_fields_3", b"\x41" + copy)
header = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
put("copy_binary_fuzz", "empty_table", b"\x00" + header + struct.pack(">h", -1))
put("copy_binary_fuzz", "null_field", b"\x03" + header + struct.pack(">hi", 1, -1) + struct.pack(">h", -1))

# Config: the packaged examples and a file touching every section.
for example in sorted((ROOT / "packaging" / "examples").glob("*.toml")):
    put("config_fuzz", example.stem, example.read_bytes())
put("config_fuzz", "sections", """name = "shop"
mode = "logical"

[postgres]
host = "127.0.0.1"
port = 5432
database = "shop"
user = "pg2ch"
password = "secret"

[clickhouse]
host = "127.0.0.1"
port = 8123
database = "analytics"
compression = "zstd"

[batch]
max_rows = 10000

[[tables]]
name = "public.orders"
target = "orders_ch"
exclude = ["note"]
types = { price = "String" }

[[tables]]
name = "public.events"
key = ["sensor", "at"]
""")
put("config_fuzz", "poll", """mode = "poll"
[poll]
watermark = "updated_at"
[[tables]]
name = "shop.*"
""")

# .env
put("dotenv_fuzz", "basic", "PG_HOST=db\nexport PG_PORT=5433\n# comment\nCH_PASSWORD='x y'\n")
put("dotenv_fuzz", "quotes", 'A="line1\\nline2 \\"q\\" back\\\\slash \\t # not a comment"\nB=\'x \\n "y" # z\' # c\n')
put("dotenv_fuzz", "edge", "\n  \nEMPTY=\nSPACED = value with spaces   \nC=\"C:\\data\"\r\n")

# Kafka change events. A column's name length picks its type in fuzz_types.h's list (length 1:
# smallint, 2: integer, ...); the names below hit the types their keys say.
names = {"int2": "a", "int4": "ab", "int8": "abc", "float8": "abcdef", "num12_2": "abcdefgh",
         "text": "abcdefghijkl", "uuid": "abcdefghijklmnopqrs", "date": "abcdefghijklmnopqrst",
         "tstz": "abcdefghijklmnopqrstuvwx", "interval": "abcdefghijklmnopqrstuvwxyz",
         "inet": "abcdefghijklmnopqrstuvwxyz0", "int4arr": "abcdefghijklmnopqrstuvwxyz012345"}
row = (f'{{"{names["int2"]}":7,"{names["int4"]}":-42,"{names["int8"]}":9007199254740993,'
       f'"{names["float8"]}":1.5e300,"{names["num12_2"]}":"12.50","{names["text"]}":"h\\u00e9llo",'
       f'"{names["uuid"]}":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","{names["date"]}":19000,'
       f'"{names["tstz"]}":"2024-01-02T03:04:05.123456Z","{names["interval"]}":"P1Y2M3DT4H5M6.5S",'
       f'"{names["inet"]}":"192.168.0.1/24","{names["int4arr"]}":[1,null,3]}}')
source = '"source":{"version":"2.5","connector":"postgresql","name":"shop","ts_ms":1,"snapshot":"false","db":"shop","sequence":null,"schema":"public","table":"t","txId":748,"lsn":22817720,"xmin":null}'
put("kafka_event_fuzz", "debezium_insert", f'{{"before":null,"after":{row},{source},"op":"c","ts_ms":2,"transaction":null}}')
put("kafka_event_fuzz", "debezium_update", f'{{"before":{row},"after":{row},{source},"op":"u","ts_ms":2,"transaction":null}}')
put("kafka_event_fuzz", "debezium_delete", f'{{"before":{row},"after":null,{source},"op":"d","ts_ms":2,"transaction":null}}')
put("kafka_event_fuzz", "debezium_truncate", '{"before":null,"after":null,"source":{"schema":"public","table":"t","lsn":null},"op":"t"}')
put("kafka_event_fuzz", "schema_wrapped", f'{{"schema":{{"type":"struct"}},"payload":{{"before":null,"after":{row},{source},"op":"r"}}}}')
put("kafka_event_fuzz", "key_only", '{"id":42,"__op":"u","__schema":"public","__table":"orders","__lsn":99,"__xid":748}')
put("kafka_event_fuzz", "unavailable", '{"before":null,"after":{"ab":1,"abcdefghijkl":"__debezium_unavailable_value"},"source":{"schema":"s","table":"t","lsn":1},"op":"u"}')

# PostgreSQL binary values (typsend format) for value_codec_fuzz: byte 0 is the type index in
# fuzz_types.h, byte 1 bit 0 the modern server, bit 1 numeric as String.
def value(name, type_index, flags, data):
    put("value_codec_fuzz", name, bytes([type_index, flags]) + data)

def numeric(weight, sign, dscale, digits):
    return struct.pack(">hhHH", len(digits), weight, sign, dscale) + b"".join(struct.pack(">h", d) for d in digits)

def array(elem_oid, elems, dims=None):
    dims = dims or [len(elems)]
    out = struct.pack(">iiI", len(dims), int(any(e is None for e in elems)), elem_oid)
    for d in dims:
        out += struct.pack(">ii", d, 1)
    for e in elems:
        out += struct.pack(">i", -1) if e is None else struct.pack(">i", len(e)) + e
    return out

value("bool_true", 0, 1, b"\x01")
value("int2", 1, 1, struct.pack(">h", -2))
value("int4", 2, 0, struct.pack(">i", 123456))
value("int8", 3, 1, struct.pack(">q", -(2**62)))
value("float8_nan", 6, 1, bytes.fromhex("7ff8000000000000"))
value("numeric_12_50", 8, 1, numeric(0, 0, 2, [12, 5000]))
value("numeric_12_50_old", 8, 0, numeric(0, 0, 2, [12, 5000]))
value("numeric_nan_string", 7, 3, numeric(0, 0xC000, 0, []))
value("numeric_big", 10, 1, numeric(9, 0x4000, 20, [1, 2345, 6789, 1234, 5678, 9012, 3456, 7890, 1234, 5678, 1]))
value("numeric_unconstrained", 7, 1, numeric(-2, 0, 12, [12, 3400]))
value("text", 12, 1, "héllo".encode())
value("jsonb", 18, 1, b"\x01" + b'{"a": [1, 2]}')
value("uuid", 19, 1, bytes.fromhex("a0eebc999c0b4ef8bb6d6bb9bd380a11"))
value("date", 20, 1, struct.pack(">i", 8766))
value("date_old", 20, 0, struct.pack(">i", -100000))
value("time", 21, 1, struct.pack(">q", 86399999999))
value("timestamp", 22, 1, struct.pack(">q", 757382400000000))
value("timestamptz_old", 24, 0, struct.pack(">q", -1))
value("timestamptz_3", 25, 1, struct.pack(">q", 757382400123456))
value("timestamptz_infinity", 24, 1, struct.pack(">q", 2**63 - 1))
value("interval", 26, 1, struct.pack(">qii", 3723000001, 3, 14))
value("inet4", 27, 1, bytes([2, 24, 0, 4, 192, 168, 0, 1]))
value("cidr6", 28, 1, bytes([3, 64, 1, 16]) + bytes.fromhex("20010db8000000000000000000000000"))
value("macaddr", 29, 1, bytes.fromhex("08002b010203"))
value("macaddr8", 30, 1, bytes.fromhex("08002b0102030405"))
value("money", 31, 1, struct.pack(">q", 1250))
value("int4_array", 32, 1, array(23, [struct.pack(">i", 1), None, struct.pack(">i", 3)]))
value("text_array", 33, 1, array(25, [b"a", b"", None]))
value("numeric_array", 34, 1, array(1700, [numeric(0, 0, 2, [12, 5000])]))
value("int8_array_2d", 36, 1, array(20, [struct.pack(">q", i) for i in range(4)], dims=[2, 2]))
value("empty_array", 32, 1, struct.pack(">iiI", 0, 0, 23))
