/* SPDX-License-Identifier: GPL-2.0-or-later */
/* termios mapping, applied to a pseudo-terminal and read back with tcgetattr. */
#include <errno.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "uart.h"

static void test_every_combination_a_pty_keeps(void **state)
{
	static const unsigned bauds[] = {1200,    1800,    2400,    4800,    9600,    19200,
	                                 38400,   57600,   115200,  230400,  460800,  500000,
	                                 576000,  921600,  1000000, 1152000, 1500000, 2000000,
	                                 2500000, 3000000, 3500000, 4000000};
	int master, slave, fd;
	char name[64], why[400];

	assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
	assert_int_equal(uart_termios_open(name, &fd), 0);
	for (size_t b = 0; b < sizeof(bauds) / sizeof(bauds[0]); b++)
		for (unsigned stop = 1; stop <= 2; stop++)
			for (int flow = UART_FLOW_NONE; flow <= UART_FLOW_XONXOFF; flow++) {
				struct uart_config c = {bauds[b], 8, UART_PARITY_NONE, stop,
				                        (enum uart_flow)flow},
				                   got;
				struct termios t;
				assert_int_equal(uart_termios_apply(fd, &c, why, sizeof(why)), 0);
				assert_int_equal(uart_termios_read(fd, &got), 0);
				assert_memory_equal(&c, &got, sizeof(c));
				assert_int_equal(tcgetattr(fd, &t), 0);
				assert_int_equal(!!(t.c_cflag & CSTOPB), stop == 2);
				assert_int_equal(!!(t.c_cflag & CRTSCTS), flow == UART_FLOW_RTSCTS);
				assert_int_equal(!!(t.c_iflag & IXON), flow == UART_FLOW_XONXOFF);
				assert_int_equal(t.c_lflag & (ICANON | ECHO), 0); /* raw */
			}
	/* What a pty cannot carry is visible on read-back (the API refuses it). */
	struct uart_config even = {9600, 7, UART_PARITY_EVEN, 1, UART_FLOW_NONE}, got;
	assert_int_equal(uart_termios_apply(fd, &even, why, sizeof(why)), 0);
	assert_int_equal(uart_termios_read(fd, &got), 0);
	assert_int_equal(got.data_bits, 8);
	assert_int_equal(got.parity, UART_PARITY_NONE);
	close(fd);
	close(slave);
	close(master);
}

static void test_refusals(void **state)
{
	int master, slave, fd;
	char name[64], why[400];
	struct uart_config c = {12345, 8, UART_PARITY_NONE, 1, UART_FLOW_NONE};

	assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
	assert_int_equal(uart_termios_open(name, &fd), 0);
	assert_int_equal(uart_termios_apply(fd, &c, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "115200"));
	c.baud = 9600;
	c.data_bits = 9;
	assert_int_equal(uart_termios_apply(fd, &c, why, sizeof(why)), -EINVAL);
	c.data_bits = 8;
	c.stop_bits = 3;
	assert_int_equal(uart_termios_apply(fd, &c, why, sizeof(why)), -EINVAL);
	assert_int_equal(uart_termios_open("/dev/null", &fd), -EINVAL); /* not a tty */
	assert_int_equal(uart_termios_open("/nonexistent", &fd), -ENOENT);
	close(slave);
	close(master);
}

static void test_names(void **state)
{
	const char *good[] = {"ttyS0",
	                      "ttyAMA1",
	                      "ttyUSB10",
	                      "ttyACM0",
	                      "serial0",
	                      "/dev/ttyS1",
	                      "/dev/serial/by-id/usb-FTDI_FT232R_A1-if00-port0"};
	const char *bad[] = {"",
	                     "tty0",
	                     "ttyS",
	                     "ttyS0x",
	                     "../ttyS0",
	                     "/dev/../etc/passwd",
	                     "/dev/serial/by-id/../../sda",
	                     "sda",
	                     "/etc/ttyS0",
	                     "ttyUSB-1"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(uart_name_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(uart_name_valid(bad[i]));
	assert_int_equal(uart_parity_from_name("mark"), UART_PARITY_MARK);
	assert_int_equal(uart_flow_from_name("rtscts"), UART_FLOW_RTSCTS);
	assert_int_equal(uart_parity_from_name("weird"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_combination_a_pty_keeps),
	        cmocka_unit_test(test_refusals),
	        cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
