using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.GatewayBridge.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DispatchesByAgent : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_dispatches_agent_id_state_sent_at",
                table: "dispatches",
                columns: new[] { "agent_id", "state", "sent_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_dispatches_agent_id_state_sent_at",
                table: "dispatches");
        }
    }
}
