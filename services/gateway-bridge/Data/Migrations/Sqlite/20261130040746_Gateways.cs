using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.GatewayBridge.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Gateways : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "agent_copies",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    gateway_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    name = table.Column<string>(type: "TEXT", nullable: false),
                    session_key = table.Column<string>(type: "TEXT", nullable: true),
                    is_gateway_main = table.Column<bool>(type: "INTEGER", nullable: false),
                    provision_generation = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_agent_copies", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "board_copies",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    gateway_id = table.Column<Guid>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_board_copies", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "dispatches",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    gateway_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    agent_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    task_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    session_key = table.Column<string>(type: "TEXT", nullable: false),
                    kind = table.Column<string>(type: "TEXT", nullable: false),
                    message = table.Column<string>(type: "TEXT", nullable: false),
                    deliver = table.Column<bool>(type: "INTEGER", nullable: false),
                    state = table.Column<string>(type: "TEXT", nullable: false),
                    error = table.Column<string>(type: "TEXT", nullable: true),
                    sent_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    replied_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_dispatches", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "gateway_leases",
                columns: table => new
                {
                    gateway_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    owner = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    expires_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_gateway_leases", x => x.gateway_id);
                });

            migrationBuilder.CreateTable(
                name: "gateways",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    url = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    token_protected = table.Column<string>(type: "TEXT", nullable: true),
                    workspace_root = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    allow_insecure_tls = table.Column<bool>(type: "INTEGER", nullable: false),
                    disable_device_pairing = table.Column<bool>(type: "INTEGER", nullable: false),
                    device_token_protected = table.Column<string>(type: "TEXT", nullable: true),
                    connection_state = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    last_error_code = table.Column<string>(type: "TEXT", nullable: true),
                    last_error = table.Column<string>(type: "TEXT", nullable: true),
                    server_version = table.Column<string>(type: "TEXT", nullable: true),
                    connection_changed_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_gateways", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_agent_copies_gateway_id",
                table: "agent_copies",
                column: "gateway_id");

            migrationBuilder.CreateIndex(
                name: "ix_agent_copies_session_key",
                table: "agent_copies",
                column: "session_key");

            migrationBuilder.CreateIndex(
                name: "ix_dispatches_gateway_id_state_sent_at",
                table: "dispatches",
                columns: new[] { "gateway_id", "state", "sent_at" });

            migrationBuilder.CreateIndex(
                name: "ix_gateways_organization_id_created_at",
                table: "gateways",
                columns: new[] { "organization_id", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "agent_copies");

            migrationBuilder.DropTable(
                name: "board_copies");

            migrationBuilder.DropTable(
                name: "dispatches");

            migrationBuilder.DropTable(
                name: "gateway_leases");

            migrationBuilder.DropTable(
                name: "gateways");
        }
    }
}
