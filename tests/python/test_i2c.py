# SPDX-License-Identifier: GPL-2.0-or-later
"""I2C through the Python client: every SMBus operation, combined transfers,
refusals, against the simulated BME280 (1:0x76) and 24C02 EEPROM (1:0x50)."""
import pytest

import hwbroker

EEPROM, BME280 = 0x50, 0x76


def eeprom(board, start, n):
    """Reads the EEPROM through the admin socket, bypassing the client."""
    r = board.admin("POST", "/v1/i2c/1/0x50/transfer",
                    {"messages": [{"write": [start]}, {"read": n}]})
    return bytes(r["reads"][0])


def test_list(board):
    board.register("sensor", {"devices": ["/dev/i2c-1"],
                              "labels": {"io.hwbroker.i2c": "1=0x50,0x76"}})
    with board.connect("sensor") as hw:
        assert hw.i2c.list() == [{"bus": 1, "addresses": [
            {"address": "0x50", "access": "rw"}, {"address": "0x76", "access": "rw"}]}]


def test_byte_data_and_chip_id(hw):
    assert hw.i2c.read_byte_data(1, BME280, 0xD0) == 0x60
    assert hw.i2c.read_byte_data("1", "0x76", 0xD0) == 0x60


def test_every_smbus_operation(board, hw):
    i2c = hw.i2c
    i2c.quick(1, EEPROM)
    i2c.write_quick(1, EEPROM, read=True)
    assert i2c.write_byte_data(1, EEPROM, 0x30, 0xAA) is None
    assert eeprom(board, 0x30, 1) == b"\xaa"
    assert i2c.read_byte_data(1, EEPROM, 0x30) == 0xAA
    # write_byte sets the address pointer, read_byte reads there.
    assert i2c.write_byte(1, EEPROM, 0x30) is None
    assert i2c.read_byte(1, EEPROM) == 0xAA
    i2c.write_word_data(1, EEPROM, 0x40, 0x1234)
    assert eeprom(board, 0x40, 2) == b"\x34\x12"
    assert i2c.read_word_data(1, EEPROM, 0x40) == 0x1234
    i2c.write_i2c_block_data(1, EEPROM, 0x48, b"\x01\x02\x03\x04")
    assert eeprom(board, 0x48, 4) == b"\x01\x02\x03\x04"
    assert i2c.read_i2c_block_data(1, EEPROM, 0x48, 4) == b"\x01\x02\x03\x04"
    # A block write stores the count first: what a block read expects back.
    i2c.write_block_data(1, EEPROM, 0x10, [7, 8, 9])
    assert eeprom(board, 0x10, 4) == b"\x03\x07\x08\x09"
    assert i2c.read_block_data(1, EEPROM, 0x10) == b"\x07\x08\x09"
    # A process call writes a word at the command and reads the next two bytes.
    i2c.write_i2c_block_data(1, EEPROM, 0x20, [0, 0, 0x78, 0x56])
    assert i2c.process_call(1, EEPROM, 0x20, 0xBEEF) == 0x5678
    assert i2c.read_word_data(1, EEPROM, 0x20) == 0xBEEF
    assert i2c.smbus(1, EEPROM, "read_byte_data", command=0x30) == {"value": 0xAA}


def test_combined_transfer(board, hw):
    reads = hw.i2c.transfer(1, BME280, [{"write": [0xD0]}, {"read": 1}])
    assert reads == [b"\x60"]
    hw.i2c.transfer(1, EEPROM, [bytes([0x60, 1, 2, 3])])
    assert eeprom(board, 0x60, 3) == b"\x01\x02\x03"
    reads = hw.i2c.transfer(1, EEPROM, [b"\x60", 2, {"write": b"\x62"}, {"read": 1}])
    assert reads == [b"\x01\x02", b"\x03"]
    with pytest.raises(TypeError):
        hw.i2c.transfer(1, EEPROM, ["nope"])


def test_nack(hw):
    with pytest.raises(hwbroker.Nack) as e:
        hw.i2c.read_byte(1, 0x51)
    assert e.value.status == 502 and "0x51" in e.value.message


def test_invalid_changes_nothing(board, hw):
    before = eeprom(board, 0x30, 1)
    with pytest.raises(hwbroker.Invalid):
        hw.i2c.write_byte_data(1, EEPROM, 0x30, 256)
    with pytest.raises(hwbroker.Invalid):
        hw.i2c.write_i2c_block_data(1, EEPROM, 0x30, bytes(33))
    with pytest.raises(hwbroker.Invalid):
        hw.i2c.smbus(1, EEPROM, "frobnicate")
    assert eeprom(board, 0x30, 1) == before


def test_forbidden_with_hint_changes_nothing(board):
    board.register("sensor", {"devices": ["/dev/i2c-1"], "labels": {"io.hwbroker.i2c": "1=0x76"}})
    board.register("reader", {"devices": ["/dev/i2c-1:/dev/i2c-1:r"]})
    before = eeprom(board, 0x30, 4)
    with board.connect("sensor") as hw:
        with pytest.raises(hwbroker.Forbidden) as e:
            hw.i2c.write_byte_data(1, EEPROM, 0x30, 0x55)
        assert e.value.status == 403 and e.value.hint
    with board.connect("reader") as ro:
        assert ro.i2c.read_byte_data(1, EEPROM, 0x30) == before[0]
        with pytest.raises(hwbroker.Forbidden) as e:
            ro.i2c.write_i2c_block_data(1, EEPROM, 0x30, b"\x55\x55")
        with pytest.raises(hwbroker.Forbidden):
            ro.i2c.transfer(1, EEPROM, [b"\x30\x55"])
    assert eeprom(board, 0x30, 4) == before
